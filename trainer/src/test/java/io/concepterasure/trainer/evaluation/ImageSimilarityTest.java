package io.concepterasure.trainer.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageSimilarityTest {
  private static float[] image(long seed) {
    Random random = new Random(seed);
    float[] values = new float[3 * 32 * 32];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat();
    }
    return values;
  }

  @Test
  void identicalImagesScoreOneAndMoreNoiseScoresLower() {
    float[] a = image(1);
    assertThat(ImageSimilarity.ssim(a, a, 32, 32)).isCloseTo(1.0, within(1e-12));
    float[] slightly = a.clone();
    float[] heavily = a.clone();
    Random random = new Random(2);
    for (int i = 0; i < a.length; i++) {
      double n = random.nextGaussian();
      slightly[i] += (float) (0.02 * n);
      heavily[i] += (float) (0.3 * n);
    }
    double s = ImageSimilarity.ssim(a, slightly, 32, 32);
    double h = ImageSimilarity.ssim(a, heavily, 32, 32);
    assertThat(s).isLessThan(1).isGreaterThan(h);
    assertThat(ImageSimilarity.ssim(slightly, a, 32, 32)).isCloseTo(s, within(1e-12));
    assertThat(ImageSimilarity.ssim(a, image(3), 32, 32)).as("unrelated noise").isLessThan(0.1);
  }

  @Test
  void aConstantImageAgainstItselfShiftedByABrightnessStepIsBelowOne() {
    float[] a = new float[3 * 16 * 16];
    float[] b = new float[3 * 16 * 16];
    Arrays.fill(a, 0.2f);
    Arrays.fill(b, 0.6f);
    // Luminance term only: (2 * 0.2 * 0.6 + C1) / (0.04 + 0.36 + C1).
    double expected = (2 * 0.2 * 0.6 + 1e-4) / (0.04 + 0.36 + 1e-4);
    assertThat(ImageSimilarity.ssim(a, b, 16, 16)).isCloseTo(expected, within(1e-6));
  }
}
