package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/** diffusers' {@code UNetMidBlock2DCrossAttn}: a resnet, then (transformer, resnet) pairs. */
public final class UNetMidBlock2DCrossAttn extends Module {
  private final ModuleList<Transformer2DModel> attentions;
  private final ModuleList<ResnetBlock2D> resnets;

  public UNetMidBlock2DCrossAttn(
      int inChannels,
      int tembChannels,
      int numLayers,
      int transformerLayersPerBlock,
      float resnetEps,
      String resnetActFn,
      int resnetGroups,
      double outputScaleFactor,
      int crossAttentionDim,
      int numAttentionHeads,
      boolean useLinearProjection,
      boolean upcastAttention) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    resnets.add(
        new ResnetBlock2D(
            inChannels,
            inChannels,
            tembChannels,
            resnetGroups,
            resnetEps,
            resnetActFn,
            outputScaleFactor));
    for (int i = 0; i < numLayers; i++) {
      attentions.add(
          new Transformer2DModel(
              numAttentionHeads,
              inChannels / numAttentionHeads,
              inChannels,
              transformerLayersPerBlock,
              crossAttentionDim,
              resnetGroups,
              useLinearProjection,
              false,
              upcastAttention));
      resnets.add(
          new ResnetBlock2D(
              inChannels,
              inChannels,
              tembChannels,
              resnetGroups,
              resnetEps,
              resnetActFn,
              outputScaleFactor));
    }
  }

  public NDArray forward(NDArray hiddenStates, NDArray temb, NDArray encoderHiddenStates) {
    NDArray h = resnets.get(0).forward(hiddenStates, temb);
    for (int i = 0; i < attentions.size(); i++) {
      h = attentions.get(i).forward(h, encoderHiddenStates);
      h = resnets.get(i + 1).forward(h, temb);
    }
    return h;
  }
}
