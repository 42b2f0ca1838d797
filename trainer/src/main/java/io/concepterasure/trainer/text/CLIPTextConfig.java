package io.concepterasure.trainer.text;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The fields of a {@code text_encoder/config.json} that {@link CLIPTextModel} reads, with
 * transformers' names and its {@code CLIPTextConfig} defaults.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CLIPTextConfig(
    @JsonProperty("vocab_size") Integer vocabSize,
    @JsonProperty("hidden_size") Integer hiddenSize,
    @JsonProperty("intermediate_size") Integer intermediateSize,
    @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
    @JsonProperty("num_attention_heads") Integer numAttentionHeads,
    @JsonProperty("max_position_embeddings") Integer maxPositionEmbeddings,
    @JsonProperty("hidden_act") String hiddenAct,
    @JsonProperty("layer_norm_eps") Double layerNormEps,
    @JsonProperty("pad_token_id") Integer padTokenId,
    @JsonProperty("bos_token_id") Integer bosTokenId,
    @JsonProperty("eos_token_id") Integer eosTokenId) {

  public CLIPTextConfig {
    vocabSize = vocabSize == null ? 49408 : vocabSize;
    hiddenSize = hiddenSize == null ? 512 : hiddenSize;
    intermediateSize = intermediateSize == null ? 2048 : intermediateSize;
    numHiddenLayers = numHiddenLayers == null ? 12 : numHiddenLayers;
    numAttentionHeads = numAttentionHeads == null ? 8 : numAttentionHeads;
    maxPositionEmbeddings = maxPositionEmbeddings == null ? 77 : maxPositionEmbeddings;
    hiddenAct = hiddenAct == null ? "quick_gelu" : hiddenAct;
    layerNormEps = layerNormEps == null ? 1e-5 : layerNormEps;
    padTokenId = padTokenId == null ? 1 : padTokenId;
    bosTokenId = bosTokenId == null ? 49406 : bosTokenId;
    eosTokenId = eosTokenId == null ? 49407 : eosTokenId;
    if (hiddenSize % numAttentionHeads != 0) {
      throw new IllegalArgumentException(
          "text encoder config: hidden_size "
              + hiddenSize
              + " is not divisible by num_attention_heads "
              + numAttentionHeads);
    }
    if (!List.of("quick_gelu", "gelu").contains(hiddenAct)) {
      throw new IllegalArgumentException(
          "text encoder config: hidden_act must be quick_gelu or gelu, got " + hiddenAct);
    }
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  public static CLIPTextConfig read(Path file) {
    try {
      return new ObjectMapper().readValue(file.toFile(), CLIPTextConfig.class);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read text encoder config " + file + ": " + e.getMessage(), e);
    }
  }
}
