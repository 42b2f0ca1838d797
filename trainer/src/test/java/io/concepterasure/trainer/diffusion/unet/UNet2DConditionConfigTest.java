package io.concepterasure.trainer.diffusion.unet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class UNet2DConditionConfigTest {
  @Test
  void expandsSingleValuesToOnePerBlockAndKeepsDiffusersDefaults() throws IOException {
    UNet2DConditionConfig sd15 = UNet2DConditionModelTest.resourceConfig("sd15-config.json");
    assertThat(sd15.attentionHeadDim()).containsExactly(8, 8, 8, 8);
    assertThat(sd15.numAttentionHeads(3)).isEqualTo(8);
    assertThat(sd15.crossAttentionDim()).containsExactly(768, 768, 768, 768);
    assertThat(sd15.onlyCrossAttention()).containsExactly(false, false, false, false);
    assertThat(sd15.useLinearProjection()).isFalse();
    assertThat(sd15.upcastAttention()).isFalse();
    assertThat(sd15.timeEmbedDim()).isEqualTo(1280);
    assertThat(sd15.sampleSizeOr(0)).isEqualTo(64);

    UNet2DConditionConfig sd21 = UNet2DConditionModelTest.resourceConfig("sd21-config.json");
    assertThat(sd21.attentionHeadDim()).containsExactly(5, 10, 20, 20);
    assertThat(sd21.useLinearProjection()).isTrue();

    UNet2DConditionConfig defaults = UNet2DConditionConfig.parse("{}");
    assertThat(defaults.blockOutChannels()).isEqualTo(List.of(320, 640, 1280, 1280));
    assertThat(defaults.normEps()).isEqualTo(1e-5);
    assertThat(defaults.flipSinToCos()).isTrue();
    assertThat(defaults.midBlockType()).isEqualTo("UNetMidBlock2DCrossAttn");
    assertThat(defaults.sampleSize()).isNull();
    assertThat(defaults.sampleSizeOr(64)).isEqualTo(64);
  }

  @Test
  void rejectsOtherBlockTypesNamingTheField() {
    assertThatThrownBy(
            () ->
                UNet2DConditionConfig.parse(
                    """
        {"down_block_types": ["SimpleCrossAttnDownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D"]}"""))
        .hasMessageContaining("down_block_types")
        .hasMessageContaining("SimpleCrossAttnDownBlock2D");
    assertThatThrownBy(
            () ->
                UNet2DConditionConfig.parse(
                    "{\"mid_block_type\": \"UNetMidBlock2DSimpleCrossAttn\"}"))
        .hasMessageContaining("mid_block_type");
  }

  @Test
  void rejectsArchitectureOptionsItDoesNotBuild() {
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"class_embed_type\": \"timestep\"}"))
        .hasMessageContaining("class_embed_type")
        .hasMessageContaining("timestep");
    assertThatThrownBy(
            () -> UNet2DConditionConfig.parse("{\"addition_embed_type\": \"text_time\"}"))
        .hasMessageContaining("addition_embed_type");
    assertThatThrownBy(
            () -> UNet2DConditionConfig.parse("{\"resnet_time_scale_shift\": \"scale_shift\"}"))
        .hasMessageContaining("resnet_time_scale_shift");
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"dual_cross_attention\": true}"))
        .hasMessageContaining("dual_cross_attention");
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"some_future_option\": 3}"))
        .hasMessageContaining("some_future_option");
    // diffusers itself refuses num_attention_heads for this class (its naming issue #2011)
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"num_attention_heads\": 8}"))
        .hasMessageContaining("num_attention_heads");
  }

  @Test
  void acceptsDefaultValuedAndBookkeepingFields() {
    UNet2DConditionConfig config =
        UNet2DConditionConfig.parse(
            """
        {"_class_name": "UNet2DConditionModel", "_name_or_path": "x", "attention_type": "default",
         "resnet_out_scale_factor": 1.0, "class_embeddings_concat": false, "some_future_flag": false,
         "addition_embed_type_num_heads": 64, "dropout": 0.0}""");
    assertThat(config.blockOutChannels()).hasSize(4);
  }

  @Test
  void rejectsListsOfTheWrongLengthAndBadTypes() {
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"attention_head_dim\": [5, 10]}"))
        .hasMessageContaining("attention_head_dim")
        .hasMessageContaining("expected 4");
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"layers_per_block\": \"two\"}"))
        .hasMessageContaining("layers_per_block");
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{\"norm_num_groups\": 48}"))
        .hasMessageContaining("norm_num_groups");
    assertThatThrownBy(() -> UNet2DConditionConfig.parse("{not json"))
        .hasMessageContaining("not valid JSON");
  }
}
