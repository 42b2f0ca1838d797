package io.concepterasure.trainer.diffusion.vae;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The fields of a {@code vae/config.json} that {@link AutoencoderKL} reads, with diffusers' names
 * and defaults.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AutoencoderKLConfig(
    @JsonProperty("in_channels") Integer inChannels,
    @JsonProperty("out_channels") Integer outChannels,
    @JsonProperty("down_block_types") List<String> downBlockTypes,
    @JsonProperty("up_block_types") List<String> upBlockTypes,
    @JsonProperty("block_out_channels") List<Integer> blockOutChannels,
    @JsonProperty("layers_per_block") Integer layersPerBlock,
    @JsonProperty("act_fn") String actFn,
    @JsonProperty("latent_channels") Integer latentChannels,
    @JsonProperty("norm_num_groups") Integer normNumGroups,
    @JsonProperty("sample_size") Integer sampleSize,
    @JsonProperty("scaling_factor") Double scalingFactor,
    @JsonProperty("shift_factor") Double shiftFactor,
    @JsonProperty("use_quant_conv") Boolean useQuantConv,
    @JsonProperty("use_post_quant_conv") Boolean usePostQuantConv,
    @JsonProperty("mid_block_add_attention") Boolean midBlockAddAttention) {

  public AutoencoderKLConfig {
    inChannels = inChannels == null ? 3 : inChannels;
    outChannels = outChannels == null ? 3 : outChannels;
    downBlockTypes =
        downBlockTypes == null ? List.of("DownEncoderBlock2D") : List.copyOf(downBlockTypes);
    upBlockTypes = upBlockTypes == null ? List.of("UpDecoderBlock2D") : List.copyOf(upBlockTypes);
    blockOutChannels = blockOutChannels == null ? List.of(64) : List.copyOf(blockOutChannels);
    layersPerBlock = layersPerBlock == null ? 1 : layersPerBlock;
    actFn = actFn == null ? "silu" : actFn;
    latentChannels = latentChannels == null ? 4 : latentChannels;
    normNumGroups = normNumGroups == null ? 32 : normNumGroups;
    sampleSize = sampleSize == null ? 32 : sampleSize;
    scalingFactor = scalingFactor == null ? 0.18215 : scalingFactor;
    useQuantConv = useQuantConv == null ? Boolean.TRUE : useQuantConv;
    usePostQuantConv = usePostQuantConv == null ? Boolean.TRUE : usePostQuantConv;
    midBlockAddAttention = midBlockAddAttention == null ? Boolean.TRUE : midBlockAddAttention;
    for (String type : downBlockTypes) {
      if (!type.equals("DownEncoderBlock2D")) {
        throw new IllegalArgumentException("vae config: unsupported down block type " + type);
      }
    }
    for (String type : upBlockTypes) {
      if (!type.equals("UpDecoderBlock2D")) {
        throw new IllegalArgumentException("vae config: unsupported up block type " + type);
      }
    }
    if (downBlockTypes.size() != blockOutChannels.size()
        || upBlockTypes.size() != blockOutChannels.size()) {
      throw new IllegalArgumentException(
          "vae config: down_block_types, up_block_types and block_out_channels must have the same length");
    }
    if (!actFn.equals("silu")) {
      throw new IllegalArgumentException("vae config: act_fn must be silu, got " + actFn);
    }
  }

  public static AutoencoderKLConfig read(Path file) {
    try {
      return new ObjectMapper().readValue(file.toFile(), AutoencoderKLConfig.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read vae config " + file + ": " + e.getMessage(), e);
    }
  }
}
