package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The one way to turn Java values into an {@link NDArray}.
 *
 * <p>DJL's PyTorch engine wraps the direct buffer it copies Java values into without copying it
 * again, and only the first array object keeps that buffer reachable: a view made from it (reshape,
 * broadcast, slice) shares the memory but not the reference, so once the first object is collected
 * the view reads freed memory (seen as NaN losses that came and went with garbage collection). The
 * clone here gives every array memory that libtorch owns.
 */
public final class Tensors {
  private Tensors() {
  }

  public static NDArray create(NDManager manager, float[] values, Shape shape) {
    return owned(manager.create(values, shape));
  }

  public static NDArray create(NDManager manager, float[] values) {
    return owned(manager.create(values));
  }

  public static NDArray create(NDManager manager, double[] values, Shape shape) {
    return owned(manager.create(values, shape));
  }

  public static NDArray create(NDManager manager, double[] values) {
    return owned(manager.create(values));
  }

  public static NDArray create(NDManager manager, long[] values, Shape shape) {
    return owned(manager.create(values, shape));
  }

  public static NDArray create(NDManager manager, long[] values) {
    return owned(manager.create(values));
  }

  public static NDArray create(NDManager manager, int[] values, Shape shape) {
    return owned(manager.create(values, shape));
  }

  public static NDArray create(NDManager manager, int[] values) {
    return owned(manager.create(values));
  }

  private static NDArray owned(NDArray wrapped) {
    try (wrapped) {
      return wrapped.duplicate();
    }
  }
}
