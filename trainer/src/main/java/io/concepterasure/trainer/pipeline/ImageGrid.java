package io.concepterasure.trainer.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Tensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Turns decoded images into 8-bit RGB and lays several out as one grid PNG. */
public final class ImageGrid {
  private ImageGrid() {}

  /**
   * Images in [0, 1], shape (N, 3, H, W), as 8-bit RGB: {@code round(x * 255)}, as diffusers'
   * {@code numpy_to_pil} does after {@code (x * 255).round()}.
   */
  public static List<BufferedImage> toImages(NDArray images) {
    Shape shape = images.getShape();
    if (shape.dimension() != 4 || shape.get(1) != 3) {
      throw new IllegalArgumentException("expected images of shape (N, 3, H, W), got " + shape);
    }
    int n = (int) shape.get(0);
    int h = (int) shape.get(2);
    int w = (int) shape.get(3);
    float[] pixels =
        Tensors.mul(images.toType(DataType.FLOAT32, false).clip(0f, 1f), 255f)
            .round()
            .toFloatArray();
    List<BufferedImage> out = new ArrayList<>(n);
    int plane = h * w;
    for (int i = 0; i < n; i++) {
      BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      int base = i * 3 * plane;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int p = y * w + x;
          int r = (int) pixels[base + p];
          int g = (int) pixels[base + plane + p];
          int b = (int) pixels[base + 2 * plane + p];
          image.setRGB(x, y, (r << 16) | (g << 8) | b);
        }
      }
      out.add(image);
    }
    return out;
  }

  /**
   * The inverse of {@link #toImages}: 8-bit RGB images (any alpha ignored) of one size as {@code
   * (N, 3, H, W)} in [0, 1].
   */
  public static NDArray fromImages(NDManager manager, List<BufferedImage> images) {
    if (images.isEmpty()) {
      throw new IllegalArgumentException("no images");
    }
    int w = images.get(0).getWidth();
    int h = images.get(0).getHeight();
    int plane = h * w;
    float[] values = new float[images.size() * 3 * plane];
    for (int i = 0; i < images.size(); i++) {
      BufferedImage image = images.get(i);
      if (image.getWidth() != w || image.getHeight() != h) {
        throw new IllegalArgumentException("images of one batch differ in size");
      }
      int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
      int base = i * 3 * plane;
      for (int p = 0; p < plane; p++) {
        values[base + p] = ((rgb[p] >> 16) & 0xff) / 255f;
        values[base + plane + p] = ((rgb[p] >> 8) & 0xff) / 255f;
        values[base + 2 * plane + p] = (rgb[p] & 0xff) / 255f;
      }
    }
    return Tensors.create(manager, values, new Shape(images.size(), 3, h, w));
  }

  /** Lays images out row by row, {@code columns} to a row; all must have the same size. */
  public static BufferedImage grid(List<BufferedImage> images, int columns) {
    if (images.isEmpty() || columns < 1) {
      throw new IllegalArgumentException("a grid needs at least one image and one column");
    }
    int w = images.get(0).getWidth();
    int h = images.get(0).getHeight();
    int rows = (images.size() + columns - 1) / columns;
    int cols = Math.min(columns, images.size());
    BufferedImage grid = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < images.size(); i++) {
      BufferedImage image = images.get(i);
      if (image.getWidth() != w || image.getHeight() != h) {
        throw new IllegalArgumentException("grid images differ in size");
      }
      grid.getGraphics().drawImage(image, (i % columns) * w, (i / columns) * h, null);
    }
    return grid;
  }

  /**
   * Writes a PNG next to {@code file} first and moves it into place, so no reader sees half a file.
   */
  public static void writePng(BufferedImage image, Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      if (!ImageIO.write(image, "png", tmp.toFile())) {
        throw new IOException("no PNG writer available");
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
