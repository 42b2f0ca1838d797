package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/**
 * diffusers' {@code CrossAttnUpBlock2D}: (resnet over input and skip connection, transformer)
 * pairs, then an optional upsampler.
 */
public final class CrossAttnUpBlock2D extends Module implements UpBlock {
  private final ModuleList<Transformer2DModel> attentions;
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Upsample2D> upsamplers;

  public CrossAttnUpBlock2D(
      int numLayers,
      int transformerLayersPerBlock,
      int inChannels,
      int prevOutputChannel,
      int outChannels,
      int tembChannels,
      float resnetEps,
      String resnetActFn,
      int resnetGroups,
      int numAttentionHeads,
      int crossAttentionDim,
      boolean addUpsample,
      boolean useLinearProjection,
      boolean onlyCrossAttention,
      boolean upcastAttention) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      int resSkipChannels = i == numLayers - 1 ? inChannels : outChannels;
      int resnetInChannels = i == 0 ? prevOutputChannel : outChannels;
      resnets.add(
          new ResnetBlock2D(
              resnetInChannels + resSkipChannels,
              outChannels,
              tembChannels,
              resnetGroups,
              resnetEps,
              resnetActFn,
              1.0));
      attentions.add(
          new Transformer2DModel(
              numAttentionHeads,
              outChannels / numAttentionHeads,
              outChannels,
              transformerLayersPerBlock,
              crossAttentionDim,
              resnetGroups,
              useLinearProjection,
              onlyCrossAttention,
              upcastAttention));
    }
    this.upsamplers = addUpsample ? child("upsamplers", new ModuleList<>()) : null;
    if (addUpsample) {
      upsamplers.add(new Upsample2D(outChannels, outChannels));
    }
  }

  @Override
  public int numResnets() {
    return resnets.size();
  }

  @Override
  public NDArray forward(
      NDArray hiddenStates,
      List<NDArray> resSamples,
      NDArray temb,
      NDArray encoderHiddenStates,
      long[] upsampleSize) {
    NDArray h = hiddenStates;
    for (int i = 0; i < resnets.size(); i++) {
      NDArray skip = resSamples.get(resSamples.size() - 1 - i);
      h = resnets.get(i).forward(NDArrays.concat(new NDList(h, skip), 1), temb);
      h = attentions.get(i).forward(h, encoderHiddenStates);
    }
    if (upsamplers != null) {
      h = upsamplers.get(0).forward(h, upsampleSize[0], upsampleSize[1]);
    }
    return h;
  }
}
