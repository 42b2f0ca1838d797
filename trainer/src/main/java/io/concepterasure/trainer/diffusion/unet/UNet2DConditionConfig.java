package io.concepterasure.trainer.diffusion.unet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The {@code unet/config.json} of a diffusers Stable Diffusion 1.x / 2.x model: diffusers' {@code
 * UNet2DConditionModel.__init__} arguments under their names (in camel case here) with diffusers'
 * defaults.
 *
 * <p>Arguments that diffusers accepts either as one value or one per down block ({@code
 * layers_per_block}, {@code cross_attention_dim}, {@code transformer_layers_per_block}, {@code
 * attention_head_dim}, {@code only_cross_attention}) are held here already expanded to one per down
 * block, as diffusers expands them. Values this runtime does not implement (other block types,
 * class or addition embeddings, Fourier time embeddings, ...) are rejected with an error naming the
 * field, so an unsupported model never loads into a wrong architecture.
 */
public record UNet2DConditionConfig(
    Integer sampleSize,
    int inChannels,
    int outChannels,
    boolean centerInputSample,
    boolean flipSinToCos,
    double freqShift,
    List<String> downBlockTypes,
    String midBlockType,
    List<String> upBlockTypes,
    List<Boolean> onlyCrossAttention,
    List<Integer> blockOutChannels,
    List<Integer> layersPerBlock,
    int downsamplePadding,
    double midBlockScaleFactor,
    String actFn,
    int normNumGroups,
    double normEps,
    List<Integer> crossAttentionDim,
    List<Integer> transformerLayersPerBlock,
    List<Integer> attentionHeadDim,
    boolean useLinearProjection,
    boolean upcastAttention,
    Integer timeEmbeddingDim,
    int convInKernel,
    int convOutKernel) {

  public static final Set<String> DOWN_BLOCK_TYPES = Set.of("CrossAttnDownBlock2D", "DownBlock2D");
  public static final Set<String> UP_BLOCK_TYPES = Set.of("CrossAttnUpBlock2D", "UpBlock2D");
  public static final String MID_BLOCK_TYPE = "UNetMidBlock2DCrossAttn";

  private static final ObjectMapper JSON = new ObjectMapper();

  public UNet2DConditionConfig {
    int blocks = downBlockTypes.size();
    for (String type : downBlockTypes) {
      if (!DOWN_BLOCK_TYPES.contains(type)) {
        throw new IllegalArgumentException(
            "down_block_types: unsupported block type '"
                + type
                + "' (supported: "
                + String.join(", ", DOWN_BLOCK_TYPES)
                + ")");
      }
    }
    for (String type : upBlockTypes) {
      if (!UP_BLOCK_TYPES.contains(type)) {
        throw new IllegalArgumentException(
            "up_block_types: unsupported block type '"
                + type
                + "' (supported: "
                + String.join(", ", UP_BLOCK_TYPES)
                + ")");
      }
    }
    if (midBlockType != null && !MID_BLOCK_TYPE.equals(midBlockType)) {
      throw new IllegalArgumentException(
          "mid_block_type: unsupported block type '"
              + midBlockType
              + "' (supported: "
              + MID_BLOCK_TYPE
              + " or null)");
    }
    requireLength("up_block_types", upBlockTypes, blocks);
    requireLength("block_out_channels", blockOutChannels, blocks);
    requireLength("only_cross_attention", onlyCrossAttention, blocks);
    requireLength("layers_per_block", layersPerBlock, blocks);
    requireLength("cross_attention_dim", crossAttentionDim, blocks);
    requireLength("transformer_layers_per_block", transformerLayersPerBlock, blocks);
    requireLength("attention_head_dim", attentionHeadDim, blocks);
    for (int i = 0; i < blocks; i++) {
      int channels = blockOutChannels.get(i);
      if (channels % normNumGroups != 0) {
        throw new IllegalArgumentException(
            "norm_num_groups: "
                + normNumGroups
                + " does not divide block_out_channels["
                + i
                + "] = "
                + channels);
      }
      // diffusers' naming quirk: attention_head_dim is the number of heads.
      if (channels % attentionHeadDim.get(i) != 0) {
        throw new IllegalArgumentException(
            "attention_head_dim: "
                + attentionHeadDim.get(i)
                + " heads do not divide block_out_channels["
                + i
                + "] = "
                + channels);
      }
    }
    downBlockTypes = List.copyOf(downBlockTypes);
    upBlockTypes = List.copyOf(upBlockTypes);
    onlyCrossAttention = List.copyOf(onlyCrossAttention);
    blockOutChannels = List.copyOf(blockOutChannels);
    layersPerBlock = List.copyOf(layersPerBlock);
    crossAttentionDim = List.copyOf(crossAttentionDim);
    transformerLayersPerBlock = List.copyOf(transformerLayersPerBlock);
    attentionHeadDim = List.copyOf(attentionHeadDim);
  }

  /**
   * Heads of the attention layers in down block {@code i} (and of the mid block for the last):
   * diffusers sets {@code num_attention_heads = attention_head_dim}, so each head has {@code
   * channels / heads} dimensions.
   */
  public int numAttentionHeads(int block) {
    return attentionHeadDim.get(block);
  }

  /**
   * The latent height and width the model was trained at ({@code sample_size}; diffusers' default
   * {@code None}): only sets the default image size, so {@code defaultValue} when absent.
   */
  public int sampleSizeOr(int defaultValue) {
    return sampleSize != null ? sampleSize : defaultValue;
  }

  /**
   * diffusers' {@code time_embed_dim}: {@code time_embedding_dim}, else 4 x the first block's
   * channels.
   */
  public int timeEmbedDim() {
    return timeEmbeddingDim != null ? timeEmbeddingDim : blockOutChannels.get(0) * 4;
  }

  public static UNet2DConditionConfig read(Path configJson) {
    try {
      return parse(Files.readString(configJson));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read UNet config " + configJson, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
    }
  }

  public static UNet2DConditionConfig parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "UNet config is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("UNet config must be a JSON object");
    }
    Fields f = new Fields(root);
    // Only read by UNetMidBlock2DSimpleCrossAttn and added-embedding models, which are refused.
    f.ignore("addition_embed_type_num_heads", "mid_block_only_cross_attention");
    // Architectures this runtime does not build: allowed only at diffusers' default.
    f.requireDefault("dual_cross_attention", false);
    f.requireDefault("num_attention_heads", null);
    f.requireDefault("reverse_transformer_layers_per_block", null);
    f.requireDefault("encoder_hid_dim", null);
    f.requireDefault("encoder_hid_dim_type", null);
    f.requireDefault("class_embed_type", null);
    f.requireDefault("addition_embed_type", null);
    f.requireDefault("addition_time_embed_dim", null);
    f.requireDefault("num_class_embeds", null);
    f.requireDefault("resnet_time_scale_shift", "default");
    f.requireDefault("resnet_skip_time_act", false);
    f.requireDefault("resnet_out_scale_factor", 1.0);
    f.requireDefault("time_embedding_type", "positional");
    f.requireDefault("time_embedding_act_fn", null);
    f.requireDefault("timestep_post_act", null);
    f.requireDefault("time_cond_proj_dim", null);
    f.requireDefault("projection_class_embeddings_input_dim", null);
    f.requireDefault("attention_type", "default");
    f.requireDefault("class_embeddings_concat", false);
    f.requireDefault("cross_attention_norm", null);
    f.requireDefault("dropout", 0.0);

    List<String> downBlockTypes =
        f.strings(
            "down_block_types",
            List.of(
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "DownBlock2D"));
    int blocks = downBlockTypes.size();
    Integer normNumGroups = f.integer("norm_num_groups", 32);
    if (normNumGroups == null) {
      throw new IllegalArgumentException("norm_num_groups: null is not supported");
    }
    UNet2DConditionConfig config =
        new UNet2DConditionConfig(
            f.integer("sample_size", null),
            f.integer("in_channels", 4),
            f.integer("out_channels", 4),
            f.bool("center_input_sample", false),
            f.bool("flip_sin_to_cos", true),
            f.number("freq_shift", 0.0),
            downBlockTypes,
            f.string("mid_block_type", MID_BLOCK_TYPE),
            f.strings(
                "up_block_types",
                List.of(
                    "UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")),
            f.perBlock(
                "only_cross_attention", false, blocks, JsonNode::isBoolean, JsonNode::booleanValue),
            f.integers("block_out_channels", List.of(320, 640, 1280, 1280)),
            f.perBlock(
                "layers_per_block",
                2,
                blocks,
                JsonNode::canConvertToExactIntegral,
                JsonNode::intValue),
            f.integer("downsample_padding", 1),
            f.number("mid_block_scale_factor", 1.0),
            f.string("act_fn", "silu"),
            normNumGroups,
            f.number("norm_eps", 1e-5),
            f.perBlock(
                "cross_attention_dim",
                1280,
                blocks,
                JsonNode::canConvertToExactIntegral,
                JsonNode::intValue),
            f.perBlock(
                "transformer_layers_per_block",
                1,
                blocks,
                JsonNode::canConvertToExactIntegral,
                JsonNode::intValue),
            f.perBlock(
                "attention_head_dim",
                8,
                blocks,
                JsonNode::canConvertToExactIntegral,
                JsonNode::intValue),
            f.bool("use_linear_projection", false),
            f.bool("upcast_attention", false),
            f.integer("time_embedding_dim", null),
            f.integer("conv_in_kernel", 3),
            f.integer("conv_out_kernel", 3));
    f.rejectUnknown();
    return config;
  }

  private static void requireLength(String field, List<?> values, int blocks) {
    if (values.size() != blocks) {
      throw new IllegalArgumentException(
          field + ": expected " + blocks + " values (one per down block) but got " + values.size());
    }
  }

  /** Reads fields by diffusers name, remembering which were read so leftovers can be reported. */
  private static final class Fields {
    private final JsonNode root;
    private final Set<String> seen = new HashSet<>();

    Fields(JsonNode root) {
      this.root = root;
    }

    private JsonNode get(String name) {
      seen.add(name);
      JsonNode node = root.get(name);
      return node == null || node.isNull() ? null : node;
    }

    void ignore(String... names) {
      Collections.addAll(seen, names);
    }

    /** Absent or null counts as the default. */
    void requireDefault(String name, Object defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return;
      }
      boolean isDefault =
          defaultValue instanceof Number number
              ? node.isNumber() && node.doubleValue() == number.doubleValue()
              : defaultValue instanceof Boolean bool
                  ? node.isBoolean() && node.booleanValue() == bool
                  : defaultValue instanceof String text
                      && node.isTextual()
                      && node.textValue().equals(text);
      if (!isDefault) {
        throw new IllegalArgumentException(
            name
                + ": unsupported value "
                + node
                + " (only "
                + (defaultValue instanceof String ? "\"" + defaultValue + "\"" : defaultValue)
                + " is supported)");
      }
    }

    Integer integer(String name, Integer defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return defaultValue;
      }
      if (!node.canConvertToExactIntegral()) {
        throw new IllegalArgumentException(name + ": expected an integer but got " + node);
      }
      return node.intValue();
    }

    double number(String name, double defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return defaultValue;
      }
      if (!node.isNumber()) {
        throw new IllegalArgumentException(name + ": expected a number but got " + node);
      }
      return node.doubleValue();
    }

    boolean bool(String name, boolean defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return defaultValue;
      }
      if (!node.isBoolean()) {
        throw new IllegalArgumentException(name + ": expected true or false but got " + node);
      }
      return node.booleanValue();
    }

    String string(String name, String defaultValue) {
      seen.add(name);
      if (!root.has(name)) {
        return defaultValue;
      }
      JsonNode node = root.get(name);
      if (node.isNull()) {
        return null;
      }
      if (!node.isTextual()) {
        throw new IllegalArgumentException(name + ": expected a string but got " + node);
      }
      return node.textValue();
    }

    List<String> strings(String name, List<String> defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return defaultValue;
      }
      return list(name, node, JsonNode::isTextual, JsonNode::textValue);
    }

    List<Integer> integers(String name, List<Integer> defaultValue) {
      JsonNode node = get(name);
      if (node == null) {
        return defaultValue;
      }
      return list(name, node, JsonNode::canConvertToExactIntegral, JsonNode::intValue);
    }

    /** One value for every down block, or a list of one per down block. */
    <T> List<T> perBlock(
        String name,
        T defaultValue,
        int blocks,
        Predicate<JsonNode> valid,
        Function<JsonNode, T> read) {
      JsonNode node = get(name);
      if (node == null) {
        return Collections.nCopies(blocks, defaultValue);
      }
      if (node.isArray()) {
        return list(name, node, valid, read);
      }
      if (!valid.test(node)) {
        throw new IllegalArgumentException(name + ": unsupported value " + node);
      }
      return Collections.nCopies(blocks, read.apply(node));
    }

    private static <T> List<T> list(
        String name, JsonNode node, Predicate<JsonNode> valid, Function<JsonNode, T> read) {
      if (!node.isArray()) {
        throw new IllegalArgumentException(name + ": expected a list but got " + node);
      }
      List<T> out = new ArrayList<>();
      for (JsonNode item : node) {
        if (!valid.test(item)) {
          throw new IllegalArgumentException(
              name + ": unsupported element " + item + " in " + node);
        }
        out.add(read.apply(item));
      }
      return out;
    }

    /**
     * diffusers' own bookkeeping ({@code _class_name}, ...) is skipped; anything else unread must
     * be off.
     */
    void rejectUnknown() {
      Iterator<Map.Entry<String, JsonNode>> it = root.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> field = it.next();
        String name = field.getKey();
        JsonNode value = field.getValue();
        if (name.startsWith("_") || seen.contains(name)) {
          continue;
        }
        if (!(value.isNull() || (value.isBoolean() && !value.booleanValue()))) {
          throw new IllegalArgumentException(
              name
                  + ": unknown field with value "
                  + value
                  + " (this runtime implements UNet2DConditionModel for Stable Diffusion 1.x/2.x)");
        }
      }
    }
  }
}
