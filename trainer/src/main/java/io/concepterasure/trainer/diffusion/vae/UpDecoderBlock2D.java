package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.diffusion.unet.ResnetBlock2D;
import io.concepterasure.trainer.diffusion.unet.Upsample2D;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/**
 * diffusers' {@code UpDecoderBlock2D}: resnets without a time embedding, then a 2x nearest upsample
 * and conv.
 */
public final class UpDecoderBlock2D extends Module {
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Upsample2D> upsamplers;

  public UpDecoderBlock2D(
      int numLayers,
      int inChannels,
      int outChannels,
      float eps,
      String actFn,
      int groups,
      boolean addUpsample) {
    this.resnets = child("resnets", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      resnets.add(
          new ResnetBlock2D(
              i == 0 ? inChannels : outChannels, outChannels, 0, groups, eps, actFn, 1.0));
    }
    this.upsamplers = addUpsample ? child("upsamplers", new ModuleList<>()) : null;
    if (addUpsample) {
      upsamplers.add(new Upsample2D(outChannels, outChannels));
    }
  }

  public NDArray forward(NDArray hiddenStates) {
    // The first resnet reads the caller's input (the caller owns it); each later layer's output
    // replaces its predecessor's.
    NDArray h = resnets.get(0).forward(hiddenStates, null);
    for (int i = 1; i < resnets.size(); i++) {
      ResnetBlock2D resnet = resnets.get(i);
      h = thenClose(h, x -> resnet.forward(x, null));
    }
    if (upsamplers != null) {
      for (Upsample2D up : upsamplers) {
        h = thenClose(h, up::forward);
      }
    }
    return h;
  }
}
