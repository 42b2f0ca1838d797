package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.FusedOps;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/**
 * diffusers' {@code Transformer2DModel} on continuous input: group norm (eps 1e-6), {@code proj_in}
 * to tokens, {@link BasicTransformerBlock}s, {@code proj_out} back to the feature map, plus the
 * input. The projections are 1x1 convolutions (SD 1.x) or linear layers on the tokens ({@code
 * use_linear_projection}, SD 2.x).
 */
public final class Transformer2DModel extends Module {
  private static final float NORM_EPS = 1e-6f;

  private final boolean useLinearProjection;
  private final GroupNorm norm;
  private final Module projIn;
  private final ModuleList<BasicTransformerBlock> transformerBlocks;
  private final Module projOut;

  public Transformer2DModel(
      int numAttentionHeads,
      int attentionHeadDim,
      int inChannels,
      int numLayers,
      int crossAttentionDim,
      int normNumGroups,
      boolean useLinearProjection,
      boolean onlyCrossAttention,
      boolean upcastAttention) {
    this.useLinearProjection = useLinearProjection;
    int innerDim = numAttentionHeads * attentionHeadDim;
    this.norm = child("norm", new GroupNorm(normNumGroups, inChannels, NORM_EPS));
    this.projIn =
        child(
            "proj_in",
            useLinearProjection
                ? new Linear(inChannels, innerDim)
                : new Conv2d(inChannels, innerDim, 1, 1, 0));
    this.transformerBlocks = child("transformer_blocks", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      transformerBlocks.add(
          new BasicTransformerBlock(
              innerDim,
              numAttentionHeads,
              attentionHeadDim,
              crossAttentionDim,
              onlyCrossAttention,
              upcastAttention));
    }
    this.projOut =
        child(
            "proj_out",
            useLinearProjection
                ? new Linear(innerDim, inChannels)
                : new Conv2d(innerDim, inChannels, 1, 1, 0));
  }

  /**
   * @param hiddenStates {@code [batch, channels, h, w]}
   * @param encoderHiddenStates {@code [batch, textTokens, crossAttentionDim]}
   */
  public NDArray forward(NDArray hiddenStates, NDArray encoderHiddenStates) {
    return freeingIntermediates(() -> compute(hiddenStates, encoderHiddenStates));
  }

  private NDArray compute(NDArray hiddenStates, NDArray encoderHiddenStates) {
    Shape shape = hiddenStates.getShape();
    long batch = shape.get(0);
    long height = shape.get(2);
    long width = shape.get(3);
    NDArray h = norm.forward(hiddenStates);
    if (useLinearProjection) {
      h = ((Linear) projIn).forward(toTokens(h, batch, height, width));
    } else {
      h = toTokens(((Conv2d) projIn).forward(h), batch, height, width);
    }
    for (BasicTransformerBlock block : transformerBlocks) {
      h = block.forward(h, encoderHiddenStates);
    }
    if (useLinearProjection) {
      h = toFeatureMap(((Linear) projOut).forward(h), batch, height, width);
    } else {
      h = ((Conv2d) projOut).forward(toFeatureMap(h, batch, height, width));
    }
    return h.add(hiddenStates);
  }

  private static NDArray toTokens(NDArray x, long batch, long height, long width) {
    return x.transpose(0, 2, 3, 1).reshape(batch, height * width, x.getShape().get(1));
  }

  private static NDArray toFeatureMap(NDArray x, long batch, long height, long width) {
    NDArray map = x.reshape(batch, height, width, x.getShape().get(2)).transpose(0, 3, 1, 2);
    // Row-major again, as diffusers' .contiguous(): a channels-last view would make proj_out and
    // every convolution after it run channels-last, copying their weights and gradients each call.
    return FusedOps.enabled() ? FusedOps.contiguous(map) : map;
  }
}
