package io.concepterasure.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Random;

/**
 * The random generator of one iteration, derived from (seed, iteration) alone: a resumed run draws
 * exactly what an uninterrupted run draws, with no generator state to save. Drawn in Java, not by
 * the engine, whose generator is global and cannot be saved.
 */
public final class IterationRandom {
  private final Random random;

  public IterationRandom(long seed, long iteration) {
    // SplitMix64's finaliser spreads neighbouring (seed, iteration) pairs over the seed space.
    long z = seed * 0x9E3779B97F4A7C15L + iteration;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    this.random = new Random(z ^ (z >>> 31));
  }

  /** Uniform in [0, bound). */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /** N(0, I) of the given shape, float32. */
  public NDArray normal(NDManager manager, Shape shape) {
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return Tensors.create(manager, values, shape);
  }
}
