package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
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

    // As diffusers' get_down_block / get_up_block: the type names the class, the config the rest.
    for (int i = 0; i < blocks; i++) {
      UNetBlockConfig block = UNetBlockConfig.down(config, i);
      Module module =
          switch (config.downBlockTypes().get(i)) {
            case "CrossAttnDownBlock2D" -> new CrossAttnDownBlock2D(block);
            case "DownBlock2D" -> new DownBlock2D(block);
            default ->
                throw new IllegalStateException(
                    "unchecked down block type " + config.downBlockTypes().get(i));
          };
      downBlocks.add((DownBlock) down.add(module));
    }

    this.midBlock =
        config.midBlockType() == null
            ? null
            : child("mid_block", new UNetMidBlock2DCrossAttn(UNetBlockConfig.mid(config)));

    for (int i = 0; i < blocks; i++) {
      UNetBlockConfig block = UNetBlockConfig.up(config, i);
      Module module =
          switch (config.upBlockTypes().get(i)) {
            case "CrossAttnUpBlock2D" -> new CrossAttnUpBlock2D(block);
            case "UpBlock2D" -> new UpBlock2D(block);
            default ->
                throw new IllegalStateException(
                    "unchecked up block type " + config.upBlockTypes().get(i));
          };
      upBlocks.add((UpBlock) up.add(module));
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
   * @return the model's prediction, {@code [batch, out_channels, h, w]}, in {@code sample}'s dtype:
   *     a UNet whose weights are in another dtype (a float16 θ beside fp32 latents) computes in its
   *     weights' dtype and converts at the edges, so callers need not know
   */
  public NDArray forward(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
    DataType weights = dtype();
    DataType callers = sample.getDataType();
    if (weights == callers) {
      return forwardInOwnDtype(sample, timestep, encoderHiddenStates);
    }
    return forwardInOwnDtype(
            sample.toType(weights, false), timestep, encoderHiddenStates.toType(weights, false))
        .toType(callers, false);
  }

  /** The dtype of the weights (conv_in's; all are loaded in one). */
  public DataType dtype() {
    return convIn.namedParameters().get("weight").array().getDataType();
  }

  private NDArray forwardInOwnDtype(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
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
