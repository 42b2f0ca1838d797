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

  public CrossAttnDownBlock2D(UNetBlockConfig block) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    int out = block.outChannels();
    for (int i = 0; i < block.numLayers(); i++) {
      resnets.add(block.resnet(i == 0 ? block.inChannels() : out, out));
      attentions.add(block.transformer(out, block.onlyCrossAttention()));
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
