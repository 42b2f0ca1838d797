package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;

/**
 * diffusers' {@code GEGLU} (Shazeer 2020): one projection to twice the width, half gated by GELU of
 * the other.
 */
public final class GEGLU extends Module {
  private final Linear proj;

  public GEGLU(long dimIn, long dimOut, boolean bias) {
    this.proj = child("proj", new Linear(dimIn, dimOut * 2, bias));
  }

  public NDArray forward(NDArray x) {
    NDArray projected = proj.forward(x);
    // DJL's split takes no negative axis.
    NDList halves = projected.split(2, projected.getShape().dimension() - 1);
    // Exact (erf) GELU, as torch.nn.functional.gelu's default.
    return halves.get(0).mul(Activation.gelu(halves.get(1)));
  }
}
