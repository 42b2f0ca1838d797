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
  /**
   * ESD-u's set (ESD's noxattn): the linear and convolution layers outside attn2, without the time
   * embedding, conv_in, conv_out and the norms; suits global concepts that appear unnamed.
   */
  @JsonProperty("nonCrossAttention")
  NON_CROSS_ATTENTION,
  /** The whole UNet. */
  @JsonProperty("all")
  ALL
}
