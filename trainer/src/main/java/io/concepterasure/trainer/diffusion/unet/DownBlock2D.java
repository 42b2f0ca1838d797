package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/** diffusers' {@code DownBlock2D}: resnets, then an optional strided-conv downsampler. */
public final class DownBlock2D extends Module implements DownBlock {
  private final ModuleList<ResnetBlock2D> resnets;
  private final ModuleList<Downsample2D> downsamplers;

  public DownBlock2D(
      int numLayers,
      int inChannels,
      int outChannels,
      int tembChannels,
      float resnetEps,
      String resnetActFn,
      int resnetGroups,
      boolean addDownsample,
      int downsamplePadding) {
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
