package io.concepterasure.trainer.bench;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * The Fréchet distance between Gaussians fitted to two sets of feature vectors, as FID computes it
 * (Heusel et al. 2017): {@code |μa - μb|² + tr(Σa + Σb - 2 (Σa Σb)^½)}. The trace of the root is
 * taken as that of the symmetric {@code (Σa^½ Σb Σa^½)^½}, which has the same eigenvalues and needs
 * only symmetric eigendecompositions.
 */
public final class FrechetDistance {
  private FrechetDistance() {}

  /**
   * @param a, b feature vectors, one per row, all of one length; at least two rows each
   */
  public static double between(double[][] a, double[][] b) {
    if (a.length < 2 || b.length < 2) {
      throw new IllegalArgumentException(
          "need at least two feature vectors per set, got " + a.length + " and " + b.length);
    }
    int d = a[0].length;
    if (b[0].length != d) {
      throw new IllegalArgumentException("feature lengths differ: " + d + " and " + b[0].length);
    }
    double[] meanA = mean(a);
    double[] meanB = mean(b);
    RealMatrix covA = covariance(a, meanA);
    RealMatrix covB = covariance(b, meanB);
    double meanTerm = 0;
    for (int i = 0; i < d; i++) {
      meanTerm += (meanA[i] - meanB[i]) * (meanA[i] - meanB[i]);
    }
    RealMatrix rootA = symmetricRoot(covA);
    RealMatrix inner = rootA.multiply(covB).multiply(rootA);
    // Symmetrise: rounding makes the product very slightly asymmetric.
    inner = inner.add(inner.transpose()).scalarMultiply(0.5);
    double traceRoot = 0;
    for (double eigenvalue : new EigenDecomposition(inner).getRealEigenvalues()) {
      traceRoot += Math.sqrt(Math.max(eigenvalue, 0));
    }
    return Math.max(meanTerm + covA.getTrace() + covB.getTrace() - 2 * traceRoot, 0);
  }

  private static double[] mean(double[][] x) {
    double[] mean = new double[x[0].length];
    for (double[] row : x) {
      if (row.length != mean.length) {
        throw new IllegalArgumentException("feature vectors differ in length");
      }
      for (int i = 0; i < mean.length; i++) {
        mean[i] += row[i] / x.length;
      }
    }
    return mean;
  }

  /** Unbiased (n - 1), as numpy.cov. */
  private static RealMatrix covariance(double[][] x, double[] mean) {
    int d = mean.length;
    double[][] c = new double[d][d];
    for (double[] row : x) {
      for (int i = 0; i < d; i++) {
        double di = row[i] - mean[i];
        for (int j = i; j < d; j++) {
          c[i][j] += di * (row[j] - mean[j]);
        }
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        c[i][j] /= x.length - 1;
        c[j][i] = c[i][j];
      }
    }
    return new Array2DRowRealMatrix(c, false);
  }

  private static RealMatrix symmetricRoot(RealMatrix symmetric) {
    EigenDecomposition eigen = new EigenDecomposition(symmetric);
    double[] values = eigen.getRealEigenvalues();
    RealMatrix v = eigen.getV();
    double[][] scaled = new double[values.length][values.length];
    for (int i = 0; i < values.length; i++) {
      scaled[i][i] = Math.sqrt(Math.max(values[i], 0));
    }
    return v.multiply(new Array2DRowRealMatrix(scaled, false)).multiply(eigen.getVT());
  }
}
