package io.concepterasure.trainer.toy;

import java.util.Random;

/**
 * Makes a clean synthetic image look like what a small diffusion model decodes: soft edges
 * (Gaussian blur), uneven shading (a smooth multiplicative field, like the VAE's darker rings
 * inside a shape), slightly shifted colours (a gain per channel) and a little pixel noise. The
 * classifier trains on both looks: trained only on sharp, flat shapes it called the toy model's
 * soft green discs squares.
 */
public final class GeneratorLook {
  static final float MAX_BLUR_SIGMA = 1.2f;
  static final float MAX_SHADING = 0.2f;
  static final float MAX_NOISE = 0.03f;

  /**
   * The decoder shifts hues a little (its purple is bluer); within this, a colour stays nearer its
   * own than any other.
   */
  static final float MAX_CHANNEL_GAIN = 0.12f;

  private static final int SHADING_CELLS = 4;

  private GeneratorLook() {}

  /**
   * A new image [3, size, size] in [0, 1]: {@code pixels} blurred, shaded and noised by amounts
   * drawn from {@code random}.
   */
  public static float[] apply(float[] pixels, int size, Random random) {
    float[] out = blur(pixels, size, random.nextFloat() * MAX_BLUR_SIGMA);
    shade(out, size, random.nextFloat() * MAX_SHADING, random);
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      float gain = 1 + (random.nextFloat() * 2 - 1) * MAX_CHANNEL_GAIN;
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        out[i] *= gain;
      }
    }
    float noise = random.nextFloat() * MAX_NOISE;
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.max(0f, Math.min(1f, out[i] + (float) random.nextGaussian() * noise));
    }
    return out;
  }

  /** Separable Gaussian blur of each channel, edges clamped; sigma below 0.1 returns a copy. */
  static float[] blur(float[] pixels, int size, float sigma) {
    float[] out = pixels.clone();
    if (sigma < 0.1f) {
      return out;
    }
    int radius = (int) Math.ceil(3 * sigma);
    float[] kernel = new float[2 * radius + 1];
    float total = 0;
    for (int k = -radius; k <= radius; k++) {
      kernel[k + radius] = (float) Math.exp(-k * k / (2.0 * sigma * sigma));
      total += kernel[k + radius];
    }
    for (int k = 0; k < kernel.length; k++) {
      kernel[k] /= total;
    }
    float[] tmp = new float[pixels.length];
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      int base = c * plane;
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          float sum = 0;
          for (int k = -radius; k <= radius; k++) {
            int xx = Math.max(0, Math.min(size - 1, x + k));
            sum += kernel[k + radius] * pixels[base + y * size + xx];
          }
          tmp[base + y * size + x] = sum;
        }
      }
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          float sum = 0;
          for (int k = -radius; k <= radius; k++) {
            int yy = Math.max(0, Math.min(size - 1, y + k));
            sum += kernel[k + radius] * tmp[base + yy * size + x];
          }
          out[base + y * size + x] = sum;
        }
      }
    }
    return out;
  }

  /**
   * Multiplies every channel by a field in [1 − amount, 1 + amount], bilinear between 4 × 4 random
   * cells.
   */
  static void shade(float[] pixels, int size, float amount, Random random) {
    float[][] cells = new float[SHADING_CELLS + 1][SHADING_CELLS + 1];
    for (float[] row : cells) {
      for (int i = 0; i < row.length; i++) {
        row[i] = 1 + (random.nextFloat() * 2 - 1) * amount;
      }
    }
    int plane = size * size;
    float step = (float) size / SHADING_CELLS;
    for (int y = 0; y < size; y++) {
      float gy = y / step;
      int y0 = Math.min((int) gy, SHADING_CELLS - 1);
      float fy = gy - y0;
      for (int x = 0; x < size; x++) {
        float gx = x / step;
        int x0 = Math.min((int) gx, SHADING_CELLS - 1);
        float fx = gx - x0;
        float f =
            (1 - fy) * ((1 - fx) * cells[y0][x0] + fx * cells[y0][x0 + 1])
                + fy * ((1 - fx) * cells[y0 + 1][x0] + fx * cells[y0 + 1][x0 + 1]);
        for (int c = 0; c < 3; c++) {
          int i = c * plane + y * size + x;
          pixels[i] = Math.max(0f, Math.min(1f, pixels[i] * f));
        }
      }
    }
  }
}
