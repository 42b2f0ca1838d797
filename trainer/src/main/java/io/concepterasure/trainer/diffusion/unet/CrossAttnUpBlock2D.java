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

  public CrossAttnUpBlock2D(UNetBlockConfig block) {
    this.attentions = child("attentions", new ModuleList<>());
    this.resnets = child("resnets", new ModuleList<>());
    int out = block.outChannels();
    int layers = block.numLayers();
    for (int i = 0; i < layers; i++) {
      // The last resnet takes the skip from the down block's input, the others its outputs.
      int skipChannels = i == layers - 1 ? block.inChannels() : out;
      int inChannels = i == 0 ? block.prevOutputChannel() : out;
      resnets.add(block.resnet(inChannels + skipChannels, out));
      attentions.add(block.transformer(out, block.onlyCrossAttention()));
    }
    this.upsamplers = block.addSample() ? child("upsamplers", new ModuleList<>()) : null;
    if (block.addSample()) {
      upsamplers.add(new Upsample2D(out, out));
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
