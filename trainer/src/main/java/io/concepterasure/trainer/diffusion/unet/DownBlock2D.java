package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/** diffusers' {@code DownBlock2D}: resnets, then an optional strided-conv downsampler. */
public final class DownBlock2D extends Module implements DownBlock {
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Downsample2D> downsamplers;

  public DownBlock2D(UNetBlockConfig block) {
    this.resnets = child("resnets", new ModuleList<>());
    int out = block.outChannels();
    for (int i = 0; i < block.numLayers(); i++) {
      resnets.add(block.resnet(i == 0 ? block.inChannels() : out, out));
    }
    this.downsamplers = block.addSample() ? child("downsamplers", new ModuleList<>()) : null;
    if (block.addSample()) {
      downsamplers.add(new Downsample2D(out, out, block.downsamplePadding()));
    }
  }

  @Override
  public NDArray forward(
      NDArray hiddenStates, NDArray temb, NDArray encoderHiddenStates, List<NDArray> resSamples) {
    NDArray h = hiddenStates;
    for (ResnetBlock2D resnet : resnets) {
      h = resnet.forward(h, temb);
      resSamples.add(h);
    }
    if (downsamplers != null) {
      h = downsamplers.get(0).forward(h);
      resSamples.add(h);
    }
    return h;
  }
}
