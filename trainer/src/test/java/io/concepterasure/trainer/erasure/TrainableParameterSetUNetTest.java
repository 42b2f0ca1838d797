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
  void nonCrossAttentionIsWhatEsdNoxattnTrains() {
    Set<String> cross = TrainableParameterSet.CROSS_ATTENTION.select(unet).keySet();
    Set<String> rest = TrainableParameterSet.NON_CROSS_ATTENTION.select(unet).keySet();
    assertThat(rest)
        .doesNotContainAnyElementsOf(cross)
        .contains(
            "down_blocks.0.resnets.0.conv1.weight",
            "down_blocks.0.resnets.0.time_emb_proj.weight",
            "down_blocks.0.attentions.0.proj_in.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight",
            "up_blocks.1.upsamplers.0.conv.weight")
        .doesNotContain(
            "conv_in.weight",
            "conv_out.bias",
            "conv_norm_out.weight",
            "time_embedding.linear_1.weight",
            "down_blocks.0.resnets.0.norm1.weight",
            "down_blocks.0.attentions.0.norm.bias",
            "down_blocks.0.attentions.0.transformer_blocks.0.norm2.weight");
    // What neither set trains: the time embedding, conv_in/conv_out and every normalisation.
    Set<String> neither = new java.util.TreeSet<>(unet.keySet());
    neither.removeAll(cross);
    neither.removeAll(rest);
    assertThat(neither)
        .isNotEmpty()
        .allMatch(
            n ->
                n.startsWith("time_embedding.")
                    || n.startsWith("conv_in.")
                    || n.startsWith("conv_out.")
                    || n.startsWith("conv_norm_out.")
                    || n.matches(".*\\.norm\\d?\\.(weight|bias)"));
    assertThat(TrainableParameterSet.ALL.select(unet)).hasSize(unet.size());
  }
}
