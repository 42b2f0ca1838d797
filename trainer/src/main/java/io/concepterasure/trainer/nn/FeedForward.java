package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;

/**
 * diffusers' {@code FeedForward} with the {@code "geglu"} activation of Stable Diffusion's
 * transformer blocks: {@code net.0} GEGLU, {@code net.1} dropout, {@code net.2} the output
 * projection.
 */
public final class FeedForward extends Module {
  private final GEGLU act;
  private final Linear out;

  /** {@code inner_dim = dim * mult}, {@code dim_out = dim}, as diffusers' defaults. */
  public FeedForward(long dim, int mult, String activationFn, boolean bias) {
    this(dim, dim, dim * mult, activationFn, bias);
  }

  public FeedForward(long dim, long dimOut, long innerDim, String activationFn, boolean bias) {
    if (!"geglu".equals(activationFn)) {
      throw new IllegalArgumentException(
          "activation_fn: unsupported '" + activationFn + "' (supported: geglu)");
    }
    ModuleList<Module> net = child("net", new ModuleList<>());
    this.act = net.add(new GEGLU(dim, innerDim, bias));
    net.add(new Dropout(0.0));
    this.out = net.add(new Linear(innerDim, dimOut, bias));
  }

  public NDArray forward(NDArray x) {
    return out.forward(act.forward(x));
  }
}
