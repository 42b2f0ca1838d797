package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The named UNet parameter sets a request may train. */
public enum ParameterSet {
  /** Every parameter of the cross-attention blocks (attn2): the most surgical. */
  @JsonProperty("crossAttention")
  CROSS_ATTENTION,
  /** Only attn2.to_k and attn2.to_v. */
  @JsonProperty("crossAttentionKV")
  CROSS_ATTENTION_KV,
  /** Everything but attn2: suits global concepts that appear without being named. */
  @JsonProperty("nonCrossAttention")
  NON_CROSS_ATTENTION,
  /** The whole UNet. */
  @JsonProperty("all")
  ALL
}
