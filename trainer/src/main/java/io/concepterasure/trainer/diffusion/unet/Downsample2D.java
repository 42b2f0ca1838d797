package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.Module;

/** diffusers' {@code Downsample2D} with {@code use_conv=True}: a 3x3 convolution of stride 2. */
public final class Downsample2D extends Module {
  private final int padding;
  private final Conv2d conv;

  public Downsample2D(int channels, int outChannels, int padding) {
    this.padding = padding;
    this.conv = child("conv", new Conv2d(channels, outChannels, 3, 2, padding));
  }

  public NDArray forward(NDArray hiddenStates) {
    // diffusers pads right and bottom only when the convolution itself has no padding.
    NDArray x = padding == 0 ? hiddenStates.pad(new Shape(0, 1, 0, 1), 0) : hiddenStates;
    return conv.forward(x);
  }
}
