package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import io.concepterasure.trainer.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * diffusers' {@code UNet2DConditionModel} for Stable Diffusion 1.x and 2.x, built from its {@link
 * UNet2DConditionConfig}: predicts the noise (or v) in latents {@code sample} at {@code timestep},
 * conditioned on the text encoder's {@code encoderHiddenStates}.
 *
 * <p>{@link #namedParameters()} are named exactly as the diffusers checkpoint ({@code
 * down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight}, ...).
 */
public final class UNet2DConditionModel extends Module {
  private final UNet2DConditionConfig config;
  private final Conv2d convIn;
  private final Timesteps timeProj;
  private final TimestepEmbedding timeEmbedding;
  private final List<DownBlock> downBlocks = new ArrayList<>();
  private final List<UpBlock> upBlocks = new ArrayList<>();
  private final UNetMidBlock2DCrossAttn midBlock;
  private final GroupNorm convNormOut;
  private final UnaryOperator<NDArray> convAct;
  private final Conv2d convOut;

  public UNet2DConditionModel(UNet2DConditionConfig config) {
    this.config = config;
    List<Integer> channels = config.blockOutChannels();
    int blocks = channels.size();
    float eps = (float) config.normEps();
    int groups = config.normNumGroups();

    this.convIn =
        child(
            "conv_in",
            new Conv2d(
                config.inChannels(),
                channels.get(0),
                config.convInKernel(),
                1,
                (config.convInKernel() - 1) / 2));
    int timeEmbedDim = config.timeEmbedDim();
    this.timeProj =
        child(
            "time_proj", new Timesteps(channels.get(0), config.flipSinToCos(), config.freqShift()));
    this.timeEmbedding =
        child(
            "time_embedding", new TimestepEmbedding(channels.get(0), timeEmbedDim, config.actFn()));

    ModuleList<Module> down = child("down_blocks", new ModuleList<>());
    ModuleList<Module> up = child("up_blocks", new ModuleList<>());

    int outputChannel = channels.get(0);
    for (int i = 0; i < blocks; i++) {
      int inputChannel = outputChannel;
      outputChannel = channels.get(i);
      boolean isFinal = i == blocks - 1;
      Module block =
          switch (config.downBlockTypes().get(i)) {
            case "CrossAttnDownBlock2D" ->
                new CrossAttnDownBlock2D(
                    config.layersPerBlock().get(i),
                    config.transformerLayersPerBlock().get(i),
                    inputChannel,
                    outputChannel,
                    timeEmbedDim,
                    eps,
                    config.actFn(),
                    groups,
                    config.numAttentionHeads(i),
                    config.crossAttentionDim().get(i),
                    !isFinal,
                    config.downsamplePadding(),
                    config.useLinearProjection(),
                    config.onlyCrossAttention().get(i),
                    config.upcastAttention());
            case "DownBlock2D" ->
                new DownBlock2D(
                    config.layersPerBlock().get(i),
                    inputChannel,
                    outputChannel,
                    timeEmbedDim,
                    eps,
                    config.actFn(),
                    groups,
                    !isFinal,
                    config.downsamplePadding());
            default ->
                throw new IllegalStateException(
                    "unchecked down block type " + config.downBlockTypes().get(i));
          };
      downBlocks.add((DownBlock) down.add(block));
    }

    this.midBlock =
        config.midBlockType() == null
            ? null
            : child(
                "mid_block",
                new UNetMidBlock2DCrossAttn(
                    channels.get(blocks - 1),
                    timeEmbedDim,
                    1,
                    config.transformerLayersPerBlock().get(blocks - 1),
                    eps,
                    config.actFn(),
                    groups,
                    config.midBlockScaleFactor(),
                    config.crossAttentionDim().get(blocks - 1),
                    config.numAttentionHeads(blocks - 1),
                    config.useLinearProjection(),
                    config.upcastAttention()));

    // Up blocks mirror the down blocks: every per-block setting is read in reverse.
    outputChannel = channels.get(blocks - 1);
    for (int i = 0; i < blocks; i++) {
      int r = blocks - 1 - i;
      boolean isFinal = i == blocks - 1;
      int prevOutputChannel = outputChannel;
      outputChannel = channels.get(r);
      int inputChannel = channels.get(Math.max(r - 1, 0));
      int numLayers = config.layersPerBlock().get(r) + 1;
      Module block =
          switch (config.upBlockTypes().get(i)) {
            case "CrossAttnUpBlock2D" ->
                new CrossAttnUpBlock2D(
                    numLayers,
                    config.transformerLayersPerBlock().get(r),
                    inputChannel,
                    prevOutputChannel,
                    outputChannel,
                    timeEmbedDim,
                    eps,
                    config.actFn(),
                    groups,
                    config.numAttentionHeads(r),
                    config.crossAttentionDim().get(r),
                    !isFinal,
                    config.useLinearProjection(),
                    config.onlyCrossAttention().get(r),
                    config.upcastAttention());
            case "UpBlock2D" ->
                new UpBlock2D(
                    numLayers,
                    inputChannel,
                    prevOutputChannel,
                    outputChannel,
                    timeEmbedDim,
                    eps,
                    config.actFn(),
                    groups,
                    !isFinal);
            default ->
                throw new IllegalStateException(
                    "unchecked up block type " + config.upBlockTypes().get(i));
          };
      upBlocks.add((UpBlock) up.add(block));
    }

    this.convNormOut = child("conv_norm_out", new GroupNorm(groups, channels.get(0), eps));
    this.convAct = Activations.get(config.actFn(), "act_fn");
    this.convOut =
        child(
            "conv_out",
            new Conv2d(
                channels.get(0),
                config.outChannels(),
                config.convOutKernel(),
                1,
                (config.convOutKernel() - 1) / 2));
  }

  public UNet2DConditionConfig config() {
    return config;
  }

  /**
   * @param sample noisy latents {@code [batch, in_channels, h, w]}
   * @param timestep a scalar (or one-element array) for the whole batch, or {@code [batch]}
   * @param encoderHiddenStates {@code [batch, tokens, cross_attention_dim]}
   * @return the model's prediction, {@code [batch, out_channels, h, w]}
   */
  public NDArray forward(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
    Shape shape = sample.getShape();
    if (shape.dimension() != 4 || shape.get(1) != config.inChannels()) {
      throw new IllegalArgumentException(
          "sample must be [batch, " + config.inChannels() + ", height, width] but got " + shape);
    }
    long batch = shape.get(0);
    NDArray timesteps =
        timestep.getShape().size() == 1 && batch != 1
            ? timestep.reshape(1).broadcast(batch)
            : timestep.reshape(timestep.getShape().size());
    if (timesteps.getShape().get(0) != batch) {
      throw new IllegalArgumentException(
          "timestep must be a scalar or [" + batch + "] but got " + timestep.getShape());
    }
    NDArray emb =
        timeEmbedding.forward(timeProj.forward(timesteps).toType(sample.getDataType(), false));

    NDArray h = config.centerInputSample() ? Tensors.sub(Tensors.mul(sample, 2), 1) : sample;
    h = convIn.forward(h);
    List<NDArray> resSamples = new ArrayList<>();
    resSamples.add(h);
    for (DownBlock block : downBlocks) {
      h = block.forward(h, emb, encoderHiddenStates, resSamples);
    }
    if (midBlock != null) {
      h = midBlock.forward(h, emb, encoderHiddenStates);
    }
    for (UpBlock block : upBlocks) {
      int n = block.numResnets();
      List<NDArray> skips = resSamples.subList(resSamples.size() - n, resSamples.size());
      List<NDArray> rest = resSamples.subList(0, resSamples.size() - n);
      // Upsample to the size of the skip connection met next, as diffusers does when a size is odd.
      long[] upsampleSize =
          rest.isEmpty()
              ? null
              : new long[] {
                rest.get(rest.size() - 1).getShape().get(2),
                rest.get(rest.size() - 1).getShape().get(3)
              };
      h = block.forward(h, skips, emb, encoderHiddenStates, upsampleSize);
      resSamples = new ArrayList<>(rest);
    }
    return convOut.forward(convAct.apply(convNormOut.forward(h)));
  }
}
