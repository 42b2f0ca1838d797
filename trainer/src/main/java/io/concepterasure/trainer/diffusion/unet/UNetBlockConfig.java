package io.concepterasure.trainer.diffusion.unet;

/**
 * What one down, mid or up block of the UNet is built from: diffusers' {@code get_down_block} /
 * {@code get_up_block} keyword arguments, read from {@link UNet2DConditionConfig} for the block's
 * position. The blocks take this record instead of a dozen positional parameters.
 *
 * @param numLayers resnets (and transformers) in the block
 * @param prevOutputChannel up blocks only: the channels coming from the block below
 * @param addSample whether the block ends in a down- or upsampler
 * @param outputScaleFactor the mid block's resnet output scale (1 elsewhere)
 */
public record UNetBlockConfig(
    int numLayers,
    int transformerLayersPerBlock,
    int inChannels,
    int prevOutputChannel,
    int outChannels,
    int tembChannels,
    float resnetEps,
    String resnetActFn,
    int resnetGroups,
    int numAttentionHeads,
    int crossAttentionDim,
    boolean addSample,
    int downsamplePadding,
    boolean useLinearProjection,
    boolean onlyCrossAttention,
    boolean upcastAttention,
    double outputScaleFactor) {

  /** Down block {@code i}: from the previous block's channels to its own, halving unless last. */
  public static UNetBlockConfig down(UNet2DConditionConfig c, int i) {
    int last = c.blockOutChannels().size() - 1;
    return new UNetBlockConfig(
        c.layersPerBlock().get(i),
        c.transformerLayersPerBlock().get(i),
        c.blockOutChannels().get(Math.max(i - 1, 0)),
        0,
        c.blockOutChannels().get(i),
        c.timeEmbedDim(),
        (float) c.normEps(),
        c.actFn(),
        c.normNumGroups(),
        c.numAttentionHeads(i),
        c.crossAttentionDim().get(i),
        i != last,
        c.downsamplePadding(),
        c.useLinearProjection(),
        c.onlyCrossAttention().get(i),
        c.upcastAttention(),
        1.0);
  }

  /** The mid block, at the deepest block's channels (one resnet-transformer pair, as diffusers). */
  public static UNetBlockConfig mid(UNet2DConditionConfig c) {
    int last = c.blockOutChannels().size() - 1;
    int channels = c.blockOutChannels().get(last);
    return new UNetBlockConfig(
        1,
        c.transformerLayersPerBlock().get(last),
        channels,
        0,
        channels,
        c.timeEmbedDim(),
        (float) c.normEps(),
        c.actFn(),
        c.normNumGroups(),
        c.numAttentionHeads(last),
        c.crossAttentionDim().get(last),
        false,
        0,
        c.useLinearProjection(),
        false,
        c.upcastAttention(),
        c.midBlockScaleFactor());
  }

  /**
   * Up block {@code i}: it mirrors down block {@code blocks - 1 - i}, so every per-block setting is
   * read in reverse, with one resnet more than its down block (for the downsampler's skip).
   */
  public static UNetBlockConfig up(UNet2DConditionConfig c, int i) {
    int blocks = c.blockOutChannels().size();
    int r = blocks - 1 - i;
    return new UNetBlockConfig(
        c.layersPerBlock().get(r) + 1,
        c.transformerLayersPerBlock().get(r),
        c.blockOutChannels().get(Math.max(r - 1, 0)),
        c.blockOutChannels().get(Math.min(r + 1, blocks - 1)),
        c.blockOutChannels().get(r),
        c.timeEmbedDim(),
        (float) c.normEps(),
        c.actFn(),
        c.normNumGroups(),
        c.numAttentionHeads(r),
        c.crossAttentionDim().get(r),
        i != blocks - 1,
        0,
        c.useLinearProjection(),
        c.onlyCrossAttention().get(r),
        c.upcastAttention(),
        1.0);
  }

  /** The block's {@link Transformer2DModel} at {@code channels}, heads of equal width. */
  Transformer2DModel transformer(int channels, boolean crossAttentionOnly) {
    return new Transformer2DModel(
        numAttentionHeads,
        channels / numAttentionHeads,
        channels,
        transformerLayersPerBlock,
        crossAttentionDim,
        resnetGroups,
        useLinearProjection,
        crossAttentionOnly,
        upcastAttention);
  }

  /** A resnet of this block from {@code in} to {@code out} channels. */
  ResnetBlock2D resnet(int in, int out) {
    return new ResnetBlock2D(
        in, out, tembChannels, resnetGroups, resnetEps, resnetActFn, outputScaleFactor);
  }
}
