package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.Module;

/**
 * diffusers' {@code Upsample2D} with {@code use_conv=True}: nearest-neighbour resize, then a 3x3
 * convolution.
 */
public final class Upsample2D extends Module {
  /** PyTorch's {@code upsample_nearest2d}, the mode DJL's interpolation numbers 0. */
  private static final int NEAREST = 0;

  private final Conv2d conv;

  public Upsample2D(int channels, int outChannels) {
    this.conv = child("conv", new Conv2d(channels, outChannels, 3, 1, 1));
  }

  /**
   * @param outputHeight,outputWidth the size to resize to: twice the input, or the size of the skip
   *     connection it meets when the input size was odd (diffusers' {@code upsample_size})
   */
  public NDArray forward(NDArray hiddenStates, long outputHeight, long outputWidth) {
    NDArray x =
        hiddenStates
            .getNDArrayInternal()
            .interpolation(new long[] {outputHeight, outputWidth}, NEAREST, false);
    return thenClose(x, conv::forward);
  }

  public NDArray forward(NDArray hiddenStates) {
    return forward(
        hiddenStates, hiddenStates.getShape().get(2) * 2, hiddenStates.getShape().get(3) * 2);
  }
}
