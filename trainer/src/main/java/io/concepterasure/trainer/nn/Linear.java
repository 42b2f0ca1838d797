package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** {@code torch.nn.Linear}: {@code weight} is {@code [out, in]}, {@code bias} is {@code [out]}. */
public final class Linear extends Module {
  private final long inFeatures;
  private final long outFeatures;
  private final Parameter weight;
  private final Parameter bias;

  public Linear(long inFeatures, long outFeatures) {
    this(inFeatures, outFeatures, true);
  }

  public Linear(long inFeatures, long outFeatures, boolean bias) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight =
        parameter(
            "weight",
            new Parameter(new Shape(outFeatures, inFeatures), Init.kaimingUniform(inFeatures)));
    this.bias =
        bias ? parameter("bias", new Parameter(new Shape(outFeatures), Init.zeros())) : null;
  }

  public long inFeatures() {
    return inFeatures;
  }

  public long outFeatures() {
    return outFeatures;
  }

  /** Applies to the last axis of {@code x}, any leading axes. */
  public NDArray forward(NDArray x) {
    NDArray b = bias == null ? null : bias.array();
    if (FusedOps.enabled()) {
      // aten::linear: one addmm for a contiguous 3-D input (FusedOps#linear says why).
      return FusedOps.linear(x, weight.array(), b);
    }
    return ai.djl.nn.core.Linear.linear(x, weight.array(), b).singletonOrThrow();
  }
}
