package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.diffusion.unet.ResnetBlock2D;
import io.concepterasure.trainer.nn.Attention;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/**
 * diffusers' {@code UNetMidBlock2D} as the VAE builds it (one layer, no time embedding): resnet,
 * then per layer a spatial self-attention (group norm in front, residual added) and another resnet.
 */
public final class UNetMidBlock2D extends Module {
  private final ModuleList<Attention> attentions;
  private final ModuleList<ResnetBlock2D> resnets;

  /**
   * @param attentionHeadDim channels per head; the VAE passes all channels, so one head
   * @param addAttention {@code mid_block_add_attention} of the config
   */
  public UNetMidBlock2D(
      int channels,
      float eps,
      String actFn,
      int groups,
      int attentionHeadDim,
      boolean addAttention,
      int numLayers) {
    this.attentions = addAttention ? child("attentions", new ModuleList<>()) : null;
    this.resnets = child("resnets", new ModuleList<>());
    resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps, actFn, 1.0));
    for (int i = 0; i < numLayers; i++) {
      if (addAttention) {
        attentions.add(
            Attention.builder(channels)
                .heads(channels / attentionHeadDim)
                .dimHead(attentionHeadDim)
                .bias(true)
                .normNumGroups(groups)
                .eps(eps)
                .residualConnection(true)
                .rescaleOutputFactor(1.0f)
                .build());
      }
      resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps, actFn, 1.0));
    }
  }

  public NDArray forward(NDArray hiddenStates) {
    NDArray h = resnets.get(0).forward(hiddenStates, null);
    for (int i = 1; i < resnets.size(); i++) {
      if (attentions != null) {
        h = attentions.get(i - 1).forward(h);
      }
      h = resnets.get(i).forward(h, null);
    }
    return h;
  }
}
