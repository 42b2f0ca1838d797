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
 *
 * <p>The same holds for DJL's arithmetic with a Java number ({@code x.mul(0.5f)}): it wraps the
 * number in such an array, runs the op and closes the array. Autograd saves that operand for the
 * backward pass ({@code d(x*s)/dx = s}), so the gradient later read freed memory: wrong, NaN or
 * 1e24 gradients whenever a collection ran in between. Arithmetic with a number goes through the
 * helpers here, which pass the number as an array libtorch owns. {@code TensorsRuleTest} fails the
 * build if a class calls DJL's number overloads or creates arrays from Java values elsewhere.
 */
public final class Tensors {
  private Tensors() {}

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

  /** A 0-d array of {@code value}, typed as DJL types a Java number (Float → FLOAT32, ...). */
  public static NDArray scalar(NDManager manager, Number value) {
    Shape scalar = new Shape();
    if (value instanceof Float f) {
      return create(manager, new float[] {f}, scalar);
    } else if (value instanceof Double d) {
      return create(manager, new double[] {d}, scalar);
    } else if (value instanceof Integer i) {
      return create(manager, new int[] {i}, scalar);
    } else if (value instanceof Long l) {
      return create(manager, new long[] {l}, scalar);
    }
    throw new IllegalArgumentException("unsupported scalar type " + value.getClass().getName());
  }

  /** {@code x * value}. */
  public static NDArray mul(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.mul(s);
    }
  }

  /** {@code x / value}. */
  public static NDArray div(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.div(s);
    }
  }

  /** {@code x + value}. */
  public static NDArray add(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.add(s);
    }
  }

  /** {@code x - value}. */
  public static NDArray sub(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.sub(s);
    }
  }

  /** {@code x ** value}. */
  public static NDArray pow(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.pow(s);
    }
  }

  /** {@code max(x, value)} elementwise. */
  public static NDArray maximum(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.maximum(s);
    }
  }

  /** {@code x == value} elementwise. */
  public static NDArray eq(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.eq(s);
    }
  }

  /** {@code x *= value}, in place; returns {@code x}. */
  public static NDArray muli(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.muli(s);
    }
  }

  /** {@code x /= value}, in place; returns {@code x}. */
  public static NDArray divi(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.divi(s);
    }
  }

  /** {@code x += value}, in place; returns {@code x}. */
  public static NDArray addi(NDArray x, Number value) {
    try (NDArray s = scalar(x.getManager(), value)) {
      return x.addi(s);
    }
  }

  private static NDArray owned(NDArray wrapped) {
    try (wrapped) {
      return wrapped.duplicate();
    }
  }
}
