package io.concepterasure.trainer.evaluation;

/**
 * OpenCV's {@code cv::resize(..., INTER_LINEAR)} of an 8-bit image, bit for bit, because NudeNet
 * feeds its detector what {@code cv2.dnn.blobFromImage} makes, and that resizes the 8-bit image
 * before it converts to floats. OpenCV's fixed-point path: coefficients are {@code (1 - f, f)}
 * scaled by 2048 and rounded, with {@code f} computed in single precision from half-pixel centres;
 * columns outside the image are clamped with the weight moved to the edge, rows are clamped but
 * keep their weights; the vertical pass rounds as OpenCV's {@code VResizeLinear<uchar>} does.
 * Checked against cv2.resize (opencv-python-headless 5.1.0) on 512, 320, 256, 100×77, 64 and 32
 * pixel sides (identical), and through NudeNetParityTest.
 */
final class OpenCvResize {
  private static final int COEF_SCALE = 2048;

  private OpenCvResize() {}

  /**
   * @param src {@code height × width × channels} bytes, interleaved
   * @return {@code dstHeight × dstWidth × channels} bytes, interleaved
   */
  static byte[] linear(
      byte[] src, int height, int width, int channels, int dstHeight, int dstWidth) {
    if (src.length != height * width * channels) {
      throw new IllegalArgumentException("expected " + height + "x" + width + "x" + channels);
    }
    if (height == dstHeight && width == dstWidth) {
      return src.clone(); // cv::resize copies an image of the target size
    }
    int[] xofs = new int[dstWidth];
    int[][] xa = coefficients(width, dstWidth, true, xofs);
    int[] yofs = new int[dstHeight];
    int[][] ya = coefficients(height, dstHeight, false, yofs);
    // The horizontal pass of every source row, as OpenCV's int buffer (values × 2048).
    int[][] rows = new int[height][];
    byte[] dst = new byte[dstHeight * dstWidth * channels];
    for (int dy = 0; dy < dstHeight; dy++) {
      int s0 = Math.min(Math.max(yofs[dy], 0), height - 1);
      int s1 = Math.min(Math.max(yofs[dy] + 1, 0), height - 1);
      int[] r0 =
          rows[s0] != null ? rows[s0] : (rows[s0] = horizontal(src, s0, width, channels, xofs, xa));
      int[] r1 =
          rows[s1] != null ? rows[s1] : (rows[s1] = horizontal(src, s1, width, channels, xofs, xa));
      int b0 = ya[dy][0];
      int b1 = ya[dy][1];
      int base = dy * dstWidth * channels;
      for (int i = 0; i < dstWidth * channels; i++) {
        int v = (((b0 * (r0[i] >> 4)) >> 16) + ((b1 * (r1[i] >> 4)) >> 16) + 2) >> 2;
        dst[base + i] = (byte) Math.min(Math.max(v, 0), 255);
      }
    }
    return dst;
  }

  private static int[] horizontal(
      byte[] src, int row, int width, int channels, int[] xofs, int[][] xa) {
    int[] out = new int[xofs.length * channels];
    int base = row * width * channels;
    for (int dx = 0; dx < xofs.length; dx++) {
      int sx = xofs[dx];
      int sx1 = Math.min(sx + 1, width - 1);
      for (int c = 0; c < channels; c++) {
        int a = src[base + sx * channels + c] & 0xff;
        int b = src[base + sx1 * channels + c] & 0xff;
        out[dx * channels + c] = a * xa[dx][0] + b * xa[dx][1];
      }
    }
    return out;
  }

  /**
   * OpenCV's source index and fixed-point weights per destination index. {@code clamp}: the
   * horizontal direction moves an outside position onto the edge with weight (1, 0); the vertical
   * one keeps the unclamped index (rows are clipped when read) and its weights.
   */
  private static int[][] coefficients(int src, int dst, boolean clamp, int[] ofs) {
    double scale = 1.0 / ((double) dst / src);
    int[][] a = new int[dst][2];
    for (int d = 0; d < dst; d++) {
      float f = (float) ((d + 0.5) * scale - 0.5);
      int s = (int) Math.floor(f);
      f -= s;
      if (clamp && s < 0) {
        f = 0;
        s = 0;
      }
      if (clamp && s >= src - 1) {
        f = 0;
        s = src - 1;
      }
      ofs[d] = s;
      a[d][0] = (int) Math.rint((1.f - f) * COEF_SCALE);
      a[d][1] = (int) Math.rint(f * COEF_SCALE);
    }
    return a;
  }
}
