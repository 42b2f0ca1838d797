package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.nn.Parameter;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The trainable sets on the real diffusers UNet's parameter names (the tiny SD 1.x config). */
class TrainableParameterSetUNetTest {
  private final Map<String, Parameter> unet =
      new UNet2DConditionModel(
              UNet2DConditionConfig.read(ParityFixture.root().resolve("sd1-tiny/unet/config.json")))
          .namedParameters();

  @Test
  void crossAttentionIsEveryAttn2TensorOfEveryTransformerBlock() {
    Set<String> set = TrainableParameterSet.CROSS_ATTENTION.select(unet).keySet();
    assertThat(set)
        .contains(
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.bias",
            "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight",
            "up_blocks.2.attentions.2.transformer_blocks.0.attn2.to_v.weight");
    assertThat(set).allMatch(name -> name.contains(".attn2."));
    // Two cross-attention down blocks × 2 layers, the mid block, two up blocks × 3 layers: 11
    // blocks × 5 tensors.
    assertThat(set).hasSize(55);
  }

  @Test
  void keyValueIsOnlyTheTextProjections() {
    Set<String> set = TrainableParameterSet.CROSS_ATTENTION_KV.select(unet).keySet();
    assertThat(set)
        .hasSize(22)
        .allMatch(n -> n.endsWith("attn2.to_k.weight") || n.endsWith("attn2.to_v.weight"));
  }

  @Test
  void nonCrossAttentionAndCrossAttentionPartitionTheUNet() {
    Set<String> cross = TrainableParameterSet.CROSS_ATTENTION.select(unet).keySet();
    Set<String> rest = TrainableParameterSet.NON_CROSS_ATTENTION.select(unet).keySet();
    assertThat(rest)
        .doesNotContainAnyElementsOf(cross)
        .contains(
            "conv_in.weight",
            "time_embedding.linear_1.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight");
    assertThat(cross.size() + rest.size()).isEqualTo(unet.size());
    assertThat(TrainableParameterSet.ALL.select(unet)).hasSize(unet.size());
  }
}
