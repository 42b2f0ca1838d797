package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.diffusion.unet.Downsample2D;
import io.concepterasure.trainer.diffusion.unet.ResnetBlock2D;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/**
 * diffusers' {@code DownEncoderBlock2D}: resnets without a time embedding, then a stride-2 conv.
 */
public final class DownEncoderBlock2D extends Module {
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Downsample2D> downsamplers;

  public DownEncoderBlock2D(
      int numLayers,
      int inChannels,
      int outChannels,
      float eps,
      String actFn,
      int groups,
      boolean addDownsample) {
    this.resnets = child("resnets", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      resnets.add(
          new ResnetBlock2D(
              i == 0 ? inChannels : outChannels, outChannels, 0, groups, eps, actFn, 1.0));
    }
    // The VAE's downsampler pads right and bottom by one instead of all sides (padding 0).
    this.downsamplers = addDownsample ? child("downsamplers", new ModuleList<>()) : null;
    if (addDownsample) {
      downsamplers.add(new Downsample2D(outChannels, outChannels, 0));
    }
  }

  public NDArray forward(NDArray hiddenStates) {
    NDArray h = hiddenStates;
    for (ResnetBlock2D resnet : resnets) {
      h = resnet.forward(h, null);
    }
    if (downsamplers != null) {
      for (Downsample2D down : downsamplers) {
        h = down.forward(h);
      }
    }
    return h;
  }
}
