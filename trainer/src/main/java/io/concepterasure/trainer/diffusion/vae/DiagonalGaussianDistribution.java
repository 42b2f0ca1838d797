package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.nn.Tensors;

/**
 * diffusers' {@code DiagonalGaussianDistribution}: the VAE encoder's posterior, its moments stacked
 * on the channel axis (mean first, then log-variance).
 */
public final class DiagonalGaussianDistribution {
  private final NDArray mean;
  private final NDArray logvar;
  private final NDArray std;

  public DiagonalGaussianDistribution(NDArray parameters) {
    NDList moments = parameters.split(2, 1);
    this.mean = moments.get(0);
    // The clamp keeps exp() finite for untrained or degenerate encoders.
    this.logvar = moments.get(1).clip(-30f, 20f);
    this.std = Tensors.mul(logvar, 0.5f).exp();
  }

  public NDArray mean() {
    return mean;
  }

  public NDArray logvar() {
    return logvar;
  }

  public NDArray std() {
    return std;
  }

  public NDArray var() {
    return logvar.exp();
  }

  /** The most likely latent: the mean. */
  public NDArray mode() {
    return mean;
  }

  /** A draw, given standard normal {@code noise} of the latent's shape. */
  public NDArray sample(NDArray noise) {
    return mean.add(std.mul(noise));
  }
}
