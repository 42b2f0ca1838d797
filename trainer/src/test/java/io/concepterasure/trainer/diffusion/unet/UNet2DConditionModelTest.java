package io.concepterasure.trainer.diffusion.unet;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.nn.Parameter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Architecture checks that need no reference weights; numbers against diffusers are in the parity
 * test.
 */
class UNet2DConditionModelTest {
  static UNet2DConditionConfig resourceConfig(String name) throws IOException {
    try (InputStream in = UNet2DConditionModelTest.class.getResourceAsStream("/unet/" + name)) {
      return UNet2DConditionConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  static final String TINY =
      """
      {"block_out_channels": [8, 16, 16], "layers_per_block": 1, "norm_num_groups": 4,
       "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
       "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
       "attention_head_dim": [2, 4, 4], "cross_attention_dim": 12, "use_linear_projection": true}
      """;

  // Parameter tensors and elements of diffusers' UNet2DConditionModel built from the same configs
  // (len(unet.state_dict()), sum of numel) with diffusers 0.42.1.
  @Test
  void stableDiffusion15HasDiffusersParameterSet() throws IOException {
    Map<String, Parameter> params =
        new UNet2DConditionModel(resourceConfig("sd15-config.json")).namedParameters();
    assertThat(params).hasSize(686);
    assertThat(params.values().stream().mapToLong(p -> p.shape().size()).sum())
        .isEqualTo(859_520_964L);
    // SD 1.x: 8 heads everywhere, conv projections, 768-wide text
    assertThat(params.get("down_blocks.0.attentions.0.proj_in.weight").shape())
        .isEqualTo(new Shape(320, 320, 1, 1));
    assertThat(
            params.get("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight").shape())
        .isEqualTo(new Shape(320, 768));
    assertThat(params.get("up_blocks.3.resnets.0.conv_shortcut.weight").shape())
        .isEqualTo(new Shape(320, 960, 1, 1));
    assertThat(params.get("down_blocks.0.downsamplers.0.conv.weight").shape())
        .isEqualTo(new Shape(320, 320, 3, 3));
    assertThat(params.get("up_blocks.0.upsamplers.0.conv.weight").shape())
        .isEqualTo(new Shape(1280, 1280, 3, 3));
    assertThat(
            params.get("mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight").shape())
        .isEqualTo(new Shape(10240, 1280));
    assertThat(params.get("time_embedding.linear_2.weight").shape())
        .isEqualTo(new Shape(1280, 1280));
  }

  @Test
  void stableDiffusion21HasDiffusersParameterSet() throws IOException {
    UNet2DConditionConfig config = resourceConfig("sd21-config.json");
    assertThat(config.upcastAttention()).isTrue();
    Map<String, Parameter> params = new UNet2DConditionModel(config).namedParameters();
    assertThat(params).hasSize(686);
    assertThat(params.values().stream().mapToLong(p -> p.shape().size()).sum())
        .isEqualTo(865_910_724L);
    assertThat(params.get("down_blocks.1.attentions.0.proj_in.weight").shape())
        .isEqualTo(new Shape(640, 640));
    assertThat(
            params.get("up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_v.weight").shape())
        .isEqualTo(new Shape(1280, 1024));
  }

  @Test
  void predictsNoiseOfTheSampleShapeForEvenAndOddSizes() {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.parse(TINY));
      unet.initialize(manager, 0);
      NDArray context = manager.randomNormal(new Shape(2, 5, 12));
      for (long size : new long[] {8, 9}) {
        NDArray sample = manager.randomNormal(new Shape(2, 4, size, size));
        NDArray out = unet.forward(sample, manager.create(new long[] {981, 41}), context);
        assertThat(out.getShape()).isEqualTo(new Shape(2, 4, size, size));
        assertThat(out.isNaN().any().getBoolean()).isFalse();
      }
    }
  }

  @Test
  void scalarTimestepMeansTheSameTimestepForTheWholeBatch() {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.parse(TINY));
      unet.initialize(manager, 1);
      NDArray sample = manager.randomNormal(new Shape(2, 4, 8, 8));
      NDArray context = manager.randomNormal(new Shape(2, 5, 12));
      NDArray scalar = unet.forward(sample, manager.create(500L), context);
      NDArray perSample = unet.forward(sample, manager.create(new float[] {500f, 500f}), context);
      NDArray other = unet.forward(sample, manager.create(new float[] {500f, 10f}), context);
      assertThat(scalar.sub(perSample).abs().max().getFloat()).isEqualTo(0f);
      assertThat(scalar.get(1).sub(other.get(1)).abs().max().getFloat()).isGreaterThan(0f);
    }
  }

  /**
   * Gives every bias a small random value: zero-initialised output projections would block the
   * gradient to the layers before them (attn2's keys, for one).
   */
  static void randomBiases(UNet2DConditionModel unet, NDManager manager) {
    unet.namedParameters()
        .forEach(
            (name, p) -> {
              if (name.endsWith(".bias")) {
                p.set(manager.randomNormal(0, 0.05f, p.shape(), DataType.FLOAT32));
              }
            });
  }

  @Test
  void gradientReachesCrossAttentionParametersByName() {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.parse(TINY));
      unet.initialize(manager, 2);
      randomBiases(unet, manager);
      Map<String, Parameter> attn2 = new TreeMap<>();
      unet.namedParameters()
          .forEach(
              (name, p) -> {
                if (name.contains("attn2")) {
                  attn2.put(name, p);
                  p.array().setRequiresGradient(true);
                }
              });
      assertThat(attn2)
          .containsKey("mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight");
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray out =
            unet.forward(
                manager.randomNormal(new Shape(1, 4, 8, 8)),
                manager.create(10f),
                manager.randomNormal(new Shape(1, 5, 12)));
        collector.backward(out.square().mean());
      }
      attn2.forEach(
          (name, p) ->
              assertThat(p.array().getGradient().abs().sum().getFloat())
                  .as(name)
                  .isGreaterThan(0f));
    }
  }

  @Test
  void buildsWithoutMidBlockAndWithUnpaddedDownsampling() {
    String config =
        TINY.replace(
            "\"use_linear_projection\": true",
            "\"use_linear_projection\": false, \"mid_block_type\": null, \"downsample_padding\": 0");
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.parse(config));
      assertThat(unet.namedParameters().keySet()).noneMatch(name -> name.startsWith("mid_block."));
      unet.initialize(manager, 3);
      NDArray out =
          unet.forward(
              manager.randomNormal(new Shape(1, 4, 9, 9)),
              manager.create(3L),
              manager.randomNormal(new Shape(1, 5, 12)));
      assertThat(out.getShape()).isEqualTo(new Shape(1, 4, 9, 9));
    }
  }
}
