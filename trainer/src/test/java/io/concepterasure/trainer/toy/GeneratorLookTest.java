package io.concepterasure.trainer.toy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GeneratorLookTest {
  private static final int SIZE = 32;

  @Test
  void blurSpreadsAPointAndKeepsItsSum() {
    float[] image = new float[3 * SIZE * SIZE];
    image[16 * SIZE + 16] = 1f;
    float[] blurred = GeneratorLook.blur(image, SIZE, 1f);
    float sum = 0;
    for (int i = 0; i < SIZE * SIZE; i++) {
      sum += blurred[i];
    }
    assertThat(sum).isCloseTo(1f, within(1e-5f));
    assertThat(blurred[16 * SIZE + 16]).isLessThan(0.2f);
    assertThat(blurred[16 * SIZE + 17]).isEqualTo(blurred[16 * SIZE + 15]).isGreaterThan(0.05f);
    assertThat(blurred[SIZE * SIZE + 16 * SIZE + 16]).as("other channel").isZero();
    assertThat(GeneratorLook.blur(image, SIZE, 0f)).isEqualTo(image);
  }

  @Test
  void shadingStaysWithinItsAmount() {
    float[] image = new float[3 * SIZE * SIZE];
    Arrays.fill(image, 0.5f);
    GeneratorLook.shade(image, SIZE, 0.2f, new Random(1));
    float min = 1;
    float max = 0;
    for (float v : image) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertThat(min).isGreaterThanOrEqualTo(0.4f - 1e-6f);
    assertThat(max).isLessThanOrEqualTo(0.6f + 1e-6f);
    assertThat(max - min).as("the field varies").isGreaterThan(0.01f);
  }

  @Test
  void theLookIsDrawnFromItsGeneratorAndKeepsPixelsInRange() {
    float[] clean = new ShapesDataset(0).sample(7).pixels();
    float[] a = GeneratorLook.apply(clean, SIZE, new Random(5));
    assertThat(GeneratorLook.apply(clean, SIZE, new Random(5))).isEqualTo(a);
    assertThat(GeneratorLook.apply(clean, SIZE, new Random(6))).isNotEqualTo(a);
    assertThat(a).isNotEqualTo(clean);
    for (float v : a) {
      assertThat(v).isBetween(0f, 1f);
    }
  }
}
