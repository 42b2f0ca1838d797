package io.concepterasure.trainer.toy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The project's small world: 32×32 RGB images of one simple shape in one colour at a random place,
 * size and slight rotation on a dark background, captioned "a red circle". Every sample is a pure
 * function of (seed, index), so a data set needs no storage and train and held-out sets are index
 * ranges. "None" images (irregular blobs, noise, empty backgrounds) teach the classifier to say
 * "none of these" rather than calling a blob a circle.
 */
public final class ShapesDataset {
  public static final int SIZE = 32;

  /** Held-out samples start here; training draws below it. */
  public static final long HELD_OUT_START = 1L << 40;

  private static final int SUPERSAMPLE = 4;

  public enum ShapeKind {
    CIRCLE,
    SQUARE,
    TRIANGLE,
    CROSS;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Colour {
    RED(0.90f, 0.12f, 0.10f),
    GREEN(0.12f, 0.78f, 0.20f),
    BLUE(0.15f, 0.30f, 0.95f),
    YELLOW(0.95f, 0.88f, 0.10f),
    PURPLE(0.62f, 0.15f, 0.80f);

    final float r;
    final float g;
    final float b;

    Colour(float r, float g, float b) {
      this.r = r;
      this.g = g;
      this.b = b;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One image, channels first (3×32×32), values in [0, 1]; shape and colour are null for a "none"
   * image, whose caption is "".
   */
  public record Sample(float[] pixels, ShapeKind shape, Colour colour, String caption) {}

  private final long seed;

  public ShapesDataset(long seed) {
    this.seed = seed;
  }

  public static String caption(ShapeKind shape, Colour colour) {
    return "a " + colour.word() + " " + shape.word();
  }

  /** The shape image of this index. */
  public Sample sample(long index) {
    Random random = random(index, 0);
    ShapeKind shape = ShapeKind.values()[random.nextInt(ShapeKind.values().length)];
    Colour colour = Colour.values()[random.nextInt(Colour.values().length)];
    return render(shape, colour, random);
  }

  /** An image of the given shape and colour, placed by the index. */
  public Sample sample(long index, ShapeKind shape, Colour colour) {
    return render(shape, colour, random(index, 1));
  }

  /** A "none of these" image: an irregular blob, noise, or an empty background. */
  public Sample none(long index) {
    Random random = random(index, 2);
    float[] pixels = background(random);
    switch (random.nextInt(3)) {
      case 0 -> blob(pixels, random);
      case 1 -> noise(pixels, random);
      default -> {}
    }
    return new Sample(pixels, null, null, "");
  }

  /**
   * Samples as a batch [B, 3, 32, 32] scaled to [-1, 1], as diffusion models and the classifier
   * take them.
   */
  public static NDArray toBatch(NDManager manager, List<Sample> samples) {
    int n = samples.size();
    int each = 3 * SIZE * SIZE;
    float[] values = new float[n * each];
    for (int i = 0; i < n; i++) {
      float[] p = samples.get(i).pixels();
      for (int j = 0; j < each; j++) {
        values[i * each + j] = p[j] * 2f - 1f;
      }
    }
    return Tensors.create(manager, values, new Shape(n, 3, SIZE, SIZE));
  }

  private Random random(long index, int stream) {
    long z = (seed * 0x9E3779B97F4A7C15L + index) * 31 + stream;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return new Random(z ^ (z >>> 31));
  }

  private static float[] background(Random random) {
    float level = random.nextFloat() * 0.2f;
    float[] pixels = new float[3 * SIZE * SIZE];
    Arrays.fill(pixels, level);
    return pixels;
  }

  private Sample render(ShapeKind shape, Colour colour, Random random) {
    float[] pixels = background(random);
    float radius = 5f + random.nextFloat() * 6f;
    float margin = radius + 1.5f;
    float cx = margin + random.nextFloat() * (SIZE - 2 * margin);
    float cy = margin + random.nextFloat() * (SIZE - 2 * margin);
    double angle = Math.toRadians((random.nextFloat() - 0.5f) * 40f);
    float jitter = 0.06f;
    float r = clamp(colour.r + (random.nextFloat() - 0.5f) * jitter);
    float g = clamp(colour.g + (random.nextFloat() - 0.5f) * jitter);
    float b = clamp(colour.b + (random.nextFloat() - 0.5f) * jitter);
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    paint(
        pixels,
        r,
        g,
        b,
        (x, y) -> {
          double dx = (x - cx) * cos + (y - cy) * sin;
          double dy = -(x - cx) * sin + (y - cy) * cos;
          return inside(shape, dx / radius, dy / radius);
        });
    return new Sample(pixels, shape, colour, caption(shape, colour));
  }

  /** Whether (u, v), in units of the shape's radius around its centre, lies inside the shape. */
  static boolean inside(ShapeKind shape, double u, double v) {
    return switch (shape) {
      case CIRCLE -> u * u + v * v <= 1;
      case SQUARE -> Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
      // Pointing up: apex (0, -1), base at v = 0.6 from u = -1 to 1.
      case TRIANGLE -> v <= 0.6 && Math.abs(u) <= (v + 1) / 1.6;
      case CROSS ->
          (Math.abs(u) <= 1 && Math.abs(v) <= 0.3) || (Math.abs(v) <= 1 && Math.abs(u) <= 0.3);
    };
  }

  private interface Region {
    boolean contains(double x, double y);
  }

  /**
   * Blends the colour over the pixels by the region's coverage (4×4 supersampling: smooth edges).
   */
  private static void paint(float[] pixels, float r, float g, float b, Region region) {
    int plane = SIZE * SIZE;
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        int hits = 0;
        for (int sy = 0; sy < SUPERSAMPLE; sy++) {
          for (int sx = 0; sx < SUPERSAMPLE; sx++) {
            if (region.contains(x + (sx + 0.5) / SUPERSAMPLE, y + (sy + 0.5) / SUPERSAMPLE)) {
              hits++;
            }
          }
        }
        if (hits > 0) {
          float a = hits / (float) (SUPERSAMPLE * SUPERSAMPLE);
          int i = y * SIZE + x;
          pixels[i] = pixels[i] * (1 - a) + r * a;
          pixels[plane + i] = pixels[plane + i] * (1 - a) + g * a;
          pixels[2 * plane + i] = pixels[2 * plane + i] * (1 - a) + b * a;
        }
      }
    }
  }

  /** An irregular blob: the union of three to five random ellipses around a point, any colour. */
  private static void blob(float[] pixels, Random random) {
    float cx = 8 + random.nextFloat() * 16;
    float cy = 8 + random.nextFloat() * 16;
    int parts = 3 + random.nextInt(3);
    double[][] ellipses = new double[parts][5];
    for (double[] e : ellipses) {
      e[0] = cx + (random.nextFloat() - 0.5) * 12;
      e[1] = cy + (random.nextFloat() - 0.5) * 12;
      e[2] = 2 + random.nextFloat() * 5;
      e[3] = 2 + random.nextFloat() * 5;
      e[4] = random.nextFloat() * Math.PI;
    }
    paint(
        pixels,
        random.nextFloat(),
        random.nextFloat(),
        random.nextFloat(),
        (x, y) -> {
          for (double[] e : ellipses) {
            double dx = x - e[0];
            double dy = y - e[1];
            double u = (dx * Math.cos(e[4]) + dy * Math.sin(e[4])) / e[2];
            double v = (-dx * Math.sin(e[4]) + dy * Math.cos(e[4])) / e[3];
            if (u * u + v * v <= 1) {
              return true;
            }
          }
          return false;
        });
  }

  /** Coloured noise, per pixel or in coarse cells (what a broken generator draws). */
  private static void noise(float[] pixels, Random random) {
    int cell = 1 << random.nextInt(3);
    float strength = 0.3f + random.nextFloat() * 0.7f;
    int plane = SIZE * SIZE;
    int cells = SIZE / cell;
    float[] values = new float[3 * cells * cells];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat();
    }
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < SIZE; y++) {
        for (int x = 0; x < SIZE; x++) {
          int i = c * plane + y * SIZE + x;
          float v = values[c * cells * cells + (y / cell) * cells + x / cell];
          pixels[i] = pixels[i] * (1 - strength) + v * strength;
        }
      }
    }
  }

  private static float clamp(float v) {
    return Math.max(0f, Math.min(1f, v));
  }
}
