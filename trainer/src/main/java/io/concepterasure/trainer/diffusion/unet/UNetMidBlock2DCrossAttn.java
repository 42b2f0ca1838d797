package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;

/** diffusers' {@code UNetMidBlock2DCrossAttn}: a resnet, then (transformer, resnet) pairs. */
public final class UNetMidBlock2DCrossAttn extends Module {
  private final ModuleList<Transformer2DModel> attentions;
  private final ModuleList<ResnetBlock2D> resnets;

  public UNetMidBlock2DCrossAttn(UNetBlockConfig block) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    int channels = block.inChannels();
    resnets.add(block.resnet(channels, channels));
    for (int i = 0; i < block.numLayers(); i++) {
      attentions.add(block.transformer(channels, false));
      resnets.add(block.resnet(channels, channels));
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
