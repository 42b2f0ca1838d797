package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;

/**
 * {@code torch.nn.Dropout}, kept as a child only so that the positions in a {@link ModuleList} (and
 * therefore the checkpoint keys after it, such as {@code ff.net.2}) match diffusers. Stable
 * Diffusion trains and fine-tunes with dropout 0, the only rate supported.
 */
public final class Dropout extends Module {
  public Dropout(double p) {
    if (p != 0.0) {
      throw new IllegalArgumentException("dropout: only 0 is supported, got " + p);
    }
  }

  public NDArray forward(NDArray x) {
    return x;
  }
}
