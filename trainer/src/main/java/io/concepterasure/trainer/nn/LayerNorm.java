package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** {@code torch.nn.LayerNorm} over the last axis. */
public final class LayerNorm extends Module {
  private final Shape normalizedShape;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;

  public LayerNorm(long dim, float eps) {
    this(dim, eps, true);
  }

  public LayerNorm(long dim, float eps, boolean elementwiseAffine) {
    this.normalizedShape = new Shape(dim);
    this.eps = eps;
    this.weight =
        elementwiseAffine ? parameter("weight", new Parameter(normalizedShape, Init.ones())) : null;
    this.bias =
        elementwiseAffine ? parameter("bias", new Parameter(normalizedShape, Init.zeros())) : null;
  }

  public float eps() {
    return eps;
  }

  public NDArray forward(NDArray x) {
    NDArray gamma =
        weight != null ? weight.array() : x.getManager().ones(normalizedShape, x.getDataType());
    NDArray beta =
        bias != null ? bias.array() : x.getManager().zeros(normalizedShape, x.getDataType());
    return ai.djl.nn.norm.LayerNorm.layerNorm(x, normalizedShape, gamma, beta, eps)
        .singletonOrThrow();
  }
}
