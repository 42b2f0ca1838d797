package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * One learnable tensor of a {@link Module}, named as in the diffusers / transformers checkpoint
 * (for example {@code down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight}).
 *
 * <p>The shape is fixed by the module's config when the module is built; loading a checkpoint
 * replaces the array and must match it.
 */
public final class Parameter {
  private final Shape shape;
  private final Init init;
  private NDArray array;

  public Parameter(Shape shape) {
    this(shape, null);
  }

  /**
   * A parameter that {@link #initialize} can fill with {@code init} when no checkpoint is loaded.
   */
  public Parameter(Shape shape, Init init) {
    this.shape = shape;
    this.init = init;
  }

  public Shape shape() {
    return shape;
  }

  /** The current value; {@code null} until initialised or loaded. */
  public NDArray array() {
    if (array == null) {
      throw new IllegalStateException(
          "parameter of shape " + shape + " was never initialised or loaded");
    }
    return array;
  }

  public boolean isInitialized() {
    return array != null;
  }

  /**
   * Replaces the value; the caller owns the old array (closed here, since no one else holds it).
   */
  public void set(NDArray value) {
    if (!value.getShape().equals(shape)) {
      throw new IllegalArgumentException(
          "expected shape " + shape + " but got " + value.getShape());
    }
    if (array != null && array != value) {
      array.close();
    }
    array = value;
  }

  /** Sets a fresh value from this parameter's {@link Init}, in {@code manager}. */
  public void initialize(NDManager manager, Random random) {
    if (init == null) {
      throw new IllegalStateException("parameter of shape " + shape + " has no initialiser");
    }
    set(init.create(manager, shape, random));
  }
}
