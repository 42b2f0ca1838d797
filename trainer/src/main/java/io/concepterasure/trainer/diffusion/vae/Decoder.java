package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/**
 * diffusers' VAE {@code Decoder}: latent to image, with one more resnet per block than the encoder.
 */
public final class Decoder extends Module {
  private final Conv2d convIn;
  private final ModuleList<UpDecoderBlock2D> upBlocks;
  private final UNetMidBlock2D midBlock;
  private final GroupNorm convNormOut;
  private final Conv2d convOut;

  public Decoder(AutoencoderKLConfig config) {
    List<Integer> channels = config.blockOutChannels();
    int groups = config.normNumGroups();
    int top = channels.get(channels.size() - 1);
    float eps = Encoder.EPS;
    this.convIn = child("conv_in", new Conv2d(config.latentChannels(), top, 3, 1, 1));
    this.upBlocks = child("up_blocks", new ModuleList<>());
    this.midBlock =
        child(
            "mid_block",
            new UNetMidBlock2D(
                top, eps, config.actFn(), groups, top, config.midBlockAddAttention(), 1));
    int out = top;
    for (int i = 0; i < channels.size(); i++) {
      int in = out;
      out = channels.get(channels.size() - 1 - i);
      boolean last = i == channels.size() - 1;
      upBlocks.add(
          new UpDecoderBlock2D(
              config.layersPerBlock() + 1, in, out, eps, config.actFn(), groups, !last));
    }
    this.convNormOut = child("conv_norm_out", new GroupNorm(groups, channels.get(0), eps));
    this.convOut = child("conv_out", new Conv2d(channels.get(0), config.outChannels(), 3, 1, 1));
  }

  public NDArray forward(NDArray latent) {
    NDArray h = thenClose(convIn.forward(latent), midBlock::forward);
    for (UpDecoderBlock2D block : upBlocks) {
      h = thenClose(h, block::forward);
    }
    h = thenClose(h, convNormOut::forward);
    h = thenClose(h, Activations::silu);
    return thenClose(h, convOut::forward);
  }
}
