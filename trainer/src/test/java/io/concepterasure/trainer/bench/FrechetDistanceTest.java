package io.concepterasure.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {
  @Test
  void aSetIsAtDistanceZeroFromItself() {
    double[][] x = gaussian(new Random(1), 200, 5, 0, 1);
    assertEquals(0, FrechetDistance.between(x, x), 1e-9);
  }

  @Test
  void aShiftAddsTheSquaredShift() {
    double[][] x = gaussian(new Random(2), 100, 4, 0, 1);
    double[][] shifted = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      shifted[i] = x[i].clone();
      shifted[i][0] += 3;
      shifted[i][2] -= 1;
    }
    // Same covariance: only |Δμ|² = 9 + 1 remains.
    assertEquals(10, FrechetDistance.between(x, shifted), 1e-9);
  }

  @Test
  void oneDimensionalGaussiansFollowTheClosedForm() {
    // d² = (μa - μb)² + (σa - σb)² in one dimension.
    double[][] a = {{1}, {3}};
    double[][] b = {{10}, {16}};
    double sigmaA = Math.sqrt(2);
    double sigmaB = Math.sqrt(18);
    assertEquals(
        Math.pow(2 - 13, 2) + Math.pow(sigmaA - sigmaB, 2), FrechetDistance.between(a, b), 1e-9);
  }

  @Test
  void mismatchedFeatureLengthsAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                FrechetDistance.between(
                    new double[][] {{1, 2}, {3, 4}}, new double[][] {{1}, {2}}));
    assertEquals("feature lengths differ: 2 and 1", e.getMessage());
  }

  private static double[][] gaussian(Random random, int n, int d, double mean, double std) {
    double[][] x = new double[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        x[i][j] = mean + std * random.nextGaussian();
      }
    }
    return x;
  }
}
