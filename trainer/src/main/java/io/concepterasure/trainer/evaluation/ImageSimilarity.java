package io.concepterasure.trainer.evaluation;

/**
 * SSIM (Wang et al. 2004) of two RGB images in [0, 1], channels first: an 11×11 Gaussian window (σ
 * 1.5), K1 0.01, K2 0.03, the mean of the SSIM map over the positions where the window fits,
 * averaged over the channels (as skimage's {@code structural_similarity(...,
 * gaussian_weights=True)}). It measures drift: the same seed's image before and after the erasure.
 */
public final class ImageSimilarity {
  private static final int WINDOW = 11;
  private static final double SIGMA = 1.5;
  private static final double C1 = 0.01 * 0.01;
  private static final double C2 = 0.03 * 0.03;
  private static final double[] KERNEL = kernel();

  private ImageSimilarity() {}

  private static double[] kernel() {
    double[] k = new double[WINDOW];
    double sum = 0;
    for (int i = 0; i < WINDOW; i++) {
      double d = i - WINDOW / 2;
      k[i] = Math.exp(-d * d / (2 * SIGMA * SIGMA));
      sum += k[i];
    }
    for (int i = 0; i < WINDOW; i++) {
      k[i] /= sum;
    }
    return k;
  }

  /**
   * @param a, b {@code 3 × height × width} values in [0, 1]
   */
  public static double ssim(float[] a, float[] b, int height, int width) {
    if (a.length != b.length || a.length != 3 * height * width) {
      throw new IllegalArgumentException("expected two 3x" + height + "x" + width + " images");
    }
    if (height < WINDOW || width < WINDOW) {
      throw new IllegalArgumentException("SSIM needs images of at least " + WINDOW + "x" + WINDOW);
    }
    int plane = height * width;
    double total = 0;
    for (int c = 0; c < 3; c++) {
      double sum = 0;
      int count = 0;
      for (int y = 0; y + WINDOW <= height; y++) {
        for (int x = 0; x + WINDOW <= width; x++) {
          double ma = 0;
          double mb = 0;
          double aa = 0;
          double bb = 0;
          double ab = 0;
          for (int i = 0; i < WINDOW; i++) {
            for (int j = 0; j < WINDOW; j++) {
              double w = KERNEL[i] * KERNEL[j];
              double va = a[c * plane + (y + i) * width + x + j];
              double vb = b[c * plane + (y + i) * width + x + j];
              ma += w * va;
              mb += w * vb;
              aa += w * va * va;
              bb += w * vb * vb;
              ab += w * va * vb;
            }
          }
          double varA = aa - ma * ma;
          double varB = bb - mb * mb;
          double cov = ab - ma * mb;
          sum +=
              ((2 * ma * mb + C1) * (2 * cov + C2))
                  / ((ma * ma + mb * mb + C1) * (varA + varB + C2));
          count++;
        }
      }
      total += sum / count;
    }
    return total / 3;
  }
}
