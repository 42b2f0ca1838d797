package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * {@code torch.nn.Conv2d} with square kernel, stride and zero padding, no groups or dilation (all
 * the Stable Diffusion models use): {@code weight} is {@code [out, in, k, k]}.
 */
public final class Conv2d extends Module {
  private static final Shape NO_DILATION = new Shape(1, 1);

  private final long inChannels;
  private final long outChannels;
  private final Shape stride;
  private final Shape padding;
  private final Parameter weight;
  private final Parameter bias;

  public Conv2d(long inChannels, long outChannels, int kernelSize, int stride, int padding) {
    this(inChannels, outChannels, kernelSize, stride, padding, true);
  }

  public Conv2d(
      long inChannels, long outChannels, int kernelSize, int stride, int padding, boolean bias) {
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.stride = new Shape(stride, stride);
    this.padding = new Shape(padding, padding);
    long fanIn = inChannels * kernelSize * kernelSize;
    this.weight =
        parameter(
            "weight",
            new Parameter(
                new Shape(outChannels, inChannels, kernelSize, kernelSize),
                Init.kaimingUniform(fanIn)));
    this.bias =
        bias ? parameter("bias", new Parameter(new Shape(outChannels), Init.zeros())) : null;
  }

  public long inChannels() {
    return inChannels;
  }

  public long outChannels() {
    return outChannels;
  }

  /** {@code x} is {@code [batch, in, height, width]}. */
  public NDArray forward(NDArray x) {
    return ai.djl.nn.convolutional.Conv2d.conv2d(
            x, weight.array(), bias == null ? null : bias.array(), stride, padding, NO_DILATION, 1)
        .singletonOrThrow();
  }
}
