package io.concepterasure.trainer.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GroupNormTest {
  @Test
  void matchesTheDefinitionComputedElementByElement() {
    int batch = 2, channels = 6, groups = 3, h = 4, w = 5;
    float eps = 1e-6f;
    Random random = new Random(7);
    float[] x = new float[batch * channels * h * w];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() * 3 + 1);
    }
    float[] gamma = new float[channels];
    float[] beta = new float[channels];
    for (int c = 0; c < channels; c++) {
      gamma[c] = (float) random.nextGaussian();
      beta[c] = (float) random.nextGaussian();
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      GroupNorm norm = new GroupNorm(groups, channels, eps);
      norm.namedParameters().get("weight").set(manager.create(gamma));
      norm.namedParameters().get("bias").set(manager.create(beta));
      float[] actual =
          norm.forward(manager.create(x, new Shape(batch, channels, h, w))).toFloatArray();

      int perGroup = channels / groups * h * w;
      for (int b = 0; b < batch; b++) {
        for (int g = 0; g < groups; g++) {
          int start = (b * channels + g * channels / groups) * h * w;
          double mean = 0;
          for (int i = 0; i < perGroup; i++) {
            mean += x[start + i];
          }
          mean /= perGroup;
          double var = 0;
          for (int i = 0; i < perGroup; i++) {
            var += (x[start + i] - mean) * (x[start + i] - mean);
          }
          var /= perGroup;
          for (int i = 0; i < perGroup; i++) {
            int c = g * channels / groups + i / (h * w);
            double expected = (x[start + i] - mean) / Math.sqrt(var + eps) * gamma[c] + beta[c];
            assertThat((double) actual[start + i]).isCloseTo(expected, within(1e-5));
          }
        }
      }
    }
  }

  @Test
  void normalisesThreeDimensionalInputOverGroupsOfChannels() {
    try (NDManager manager = NDManager.newBaseManager()) {
      GroupNorm norm = new GroupNorm(2, 4, 1e-5f);
      norm.initialize(manager, 1);
      NDArray y = norm.forward(manager.randomNormal(new Shape(3, 4, 10)).mul(5).add(2));
      NDArray firstGroup = y.get(":, 0:2, :").reshape(3, -1);
      assertThat(firstGroup.mean(new int[] {1}).abs().max().getFloat()).isLessThan(1e-5f);
    }
  }

  @Test
  void rejectsChannelsThatDoNotSplitIntoGroups() {
    assertThatThrownBy(() -> new GroupNorm(32, 48, 1e-5f))
        .hasMessageContaining("48 channels")
        .hasMessageContaining("32 groups");
  }
}
