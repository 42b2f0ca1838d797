package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * One learnable tensor of a {@link Module}, named as in the diffusers / transformers checkpoint
 * (for example {@code down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight}).
 *
 * <p>The shape is fixed by the module's config when the module is built; loading a checkpoint
 * replaces the array and must match it.
 */
public final class Parameter {
  private final Shape shape;
  private NDArray array;

  public Parameter(Shape shape) {
    this.shape = shape;
  }

  public Shape shape() {
    return shape;
  }

  /** The current value; {@code null} until initialised or loaded. */
  public NDArray array() {
    if (array == null) {
      throw new IllegalStateException("parameter of shape " + shape + " was never initialised or loaded");
    }
    return array;
  }

  public boolean isInitialized() {
    return array != null;
  }

  /** Replaces the value; the caller owns the old array (closed here, since no one else holds it). */
  public void set(NDArray value) {
    if (!value.getShape().equals(shape)) {
      throw new IllegalArgumentException("expected shape " + shape + " but got " + value.getShape());
    }
    if (array != null && array != value) {
      array.close();
    }
    array = value;
  }
}
