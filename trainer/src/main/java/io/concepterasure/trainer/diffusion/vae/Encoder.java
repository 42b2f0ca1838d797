package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.List;

/** diffusers' VAE {@code Encoder}: image to the moments (mean, log-variance) of the latent. */
public final class Encoder extends Module {
  // diffusers hard-codes this epsilon for every norm of the VAE.
  static final float EPS = 1e-6f;

  private final Conv2d convIn;
  private final ModuleList<DownEncoderBlock2D> downBlocks;
  private final UNetMidBlock2D midBlock;
  private final GroupNorm convNormOut;
  private final Conv2d convOut;

  public Encoder(AutoencoderKLConfig config) {
    List<Integer> channels = config.blockOutChannels();
    int groups = config.normNumGroups();
    this.convIn = child("conv_in", new Conv2d(config.inChannels(), channels.get(0), 3, 1, 1));
    this.downBlocks = child("down_blocks", new ModuleList<>());
    int out = channels.get(0);
    for (int i = 0; i < channels.size(); i++) {
      int in = out;
      out = channels.get(i);
      boolean last = i == channels.size() - 1;
      downBlocks.add(
          new DownEncoderBlock2D(
              config.layersPerBlock(), in, out, EPS, config.actFn(), groups, !last));
    }
    int top = channels.get(channels.size() - 1);
    this.midBlock =
        child(
            "mid_block",
            new UNetMidBlock2D(
                top, EPS, config.actFn(), groups, top, config.midBlockAddAttention(), 1));
    this.convNormOut = child("conv_norm_out", new GroupNorm(groups, top, EPS));
    // double_z: mean and log-variance for each latent channel.
    this.convOut = child("conv_out", new Conv2d(top, 2L * config.latentChannels(), 3, 1, 1));
  }

  public NDArray forward(NDArray sample) {
    NDArray h = convIn.forward(sample);
    for (DownEncoderBlock2D block : downBlocks) {
      h = block.forward(h);
    }
    h = midBlock.forward(h);
    return convOut.forward(Activations.silu(convNormOut.forward(h)));
  }
}
