package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * {@code torch.nn.GroupNorm}, which DJL lacks: input {@code [batch, channels, *]}, statistics per
 * sample and group of {@code channels / numGroups} channels, biased variance, then a per-channel
 * affine {@code weight}, {@code bias}. One fused libtorch operator ({@link FusedOps}); with it off,
 * layer norm over each group followed by the affine.
 */
public final class GroupNorm extends Module {
  private final int numGroups;
  private final long numChannels;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;

  public GroupNorm(int numGroups, long numChannels, float eps) {
    this(numGroups, numChannels, eps, true);
  }

  public GroupNorm(int numGroups, long numChannels, float eps, boolean affine) {
    if (numGroups <= 0 || numChannels % numGroups != 0) {
      throw new IllegalArgumentException(
          "GroupNorm: " + numChannels + " channels cannot be split into " + numGroups + " groups");
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.weight =
        affine ? parameter("weight", new Parameter(new Shape(numChannels), Init.ones())) : null;
    this.bias =
        affine ? parameter("bias", new Parameter(new Shape(numChannels), Init.zeros())) : null;
  }

  public int numGroups() {
    return numGroups;
  }

  public float eps() {
    return eps;
  }

  public NDArray forward(NDArray x) {
    Shape shape = x.getShape();
    if (shape.dimension() < 2 || shape.get(1) != numChannels) {
      throw new IllegalArgumentException(
          "GroupNorm expects [batch, " + numChannels + ", ...] but got " + shape);
    }
    if (FusedOps.enabled()) {
      return FusedOps.groupNorm(
          x,
          numGroups,
          weight == null ? null : weight.array(),
          bias == null ? null : bias.array(),
          eps);
    }
    long groupSize = shape.size() / (shape.get(0) * numGroups);
    // Group norm is layer norm over each group's flattened elements; PyTorch's fused layer_norm
    // kernel does it in one pass. Its own affine would be per element, so it gets identity here
    // and the per-channel affine follows.
    NDManager manager = x.getManager();
    Shape normalized = new Shape(groupSize);
    NDArray ones = manager.ones(normalized, x.getDataType());
    NDArray zeros = manager.zeros(normalized, x.getDataType());
    NDArray y =
        ai.djl.nn.norm.LayerNorm.layerNorm(
                x.reshape(shape.get(0), numGroups, groupSize), normalized, ones, zeros, eps)
            .singletonOrThrow()
            .reshape(shape);
    if (weight == null) {
      return y;
    }
    long[] channelShape = new long[shape.dimension() - 1];
    Arrays.fill(channelShape, 1L);
    channelShape[0] = numChannels;
    Shape perChannel = new Shape(channelShape);
    return y.mul(weight.array().reshape(perChannel)).add(bias.array().reshape(perChannel));
  }
}
