package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/**
 * diffusers' {@code CrossAttnDownBlock2D}: pairs of resnet and {@link Transformer2DModel}, then an
 * optional downsampler. Heads have {@code outChannels / numAttentionHeads} dimensions.
 */
public final class CrossAttnDownBlock2D extends Module implements DownBlock {
  private final ModuleList<Transformer2DModel> attentions;
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Downsample2D> downsamplers;

  public CrossAttnDownBlock2D(
      int numLayers,
      int transformerLayersPerBlock,
      int inChannels,
      int outChannels,
      int tembChannels,
      float resnetEps,
      String resnetActFn,
      int resnetGroups,
      int numAttentionHeads,
      int crossAttentionDim,
      boolean addDownsample,
      int downsamplePadding,
      boolean useLinearProjection,
      boolean onlyCrossAttention,
      boolean upcastAttention) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      resnets.add(
          new ResnetBlock2D(
              i == 0 ? inChannels : outChannels,
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
    this.downsamplers = addDownsample ? child("downsamplers", new ModuleList<>()) : null;
    if (addDownsample) {
      downsamplers.add(new Downsample2D(outChannels, outChannels, downsamplePadding));
    }
  }

  @Override
  public NDArray forward(
      NDArray hiddenStates, NDArray temb, NDArray encoderHiddenStates, List<NDArray> resSamples) {
    NDArray h = hiddenStates;
    for (int i = 0; i < resnets.size(); i++) {
      h = resnets.get(i).forward(h, temb);
      h = attentions.get(i).forward(h, encoderHiddenStates);
      resSamples.add(h);
    }
    if (downsamplers != null) {
      h = downsamplers.get(0).forward(h);
      resSamples.add(h);
    }
    return h;
  }
}
