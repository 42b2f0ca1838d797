package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * How a {@link Parameter} gets its first value when a model is trained from scratch rather than
 * loaded: PyTorch's defaults, drawn from the caller's seeded generator so that a seed fixes the
 * whole model.
 */
@FunctionalInterface
public interface Init {
  NDArray create(NDManager manager, Shape shape, Random random);

  static Init zeros() {
    return (manager, shape, random) -> manager.zeros(shape);
  }

  static Init ones() {
    return (manager, shape, random) -> manager.ones(shape);
  }

  /**
   * {@code torch.nn.init.kaiming_uniform_(w, a=sqrt(5))}, the default of {@code nn.Linear} and
   * {@code nn.Conv2d}: with that gain the bound reduces to {@code 1/sqrt(fan_in)}.
   */
  static Init kaimingUniform(long fanIn) {
    double bound = 1.0 / Math.sqrt(fanIn);
    return (manager, shape, random) -> {
      float[] values = new float[Math.toIntExact(shape.size())];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) ((random.nextDouble() * 2.0 - 1.0) * bound);
      }
      return Tensors.create(manager, values, shape);
    };
  }
}
