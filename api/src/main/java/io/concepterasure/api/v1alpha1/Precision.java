package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The dtype of the frozen UNet θ during training (everything trained stays fp32). */
public enum Precision {
  /** Every weight in fp32: the default when the Job requests no GPU. */
  @JsonProperty("fp32")
  FP32,
  /**
   * θ's UNet in float16, φ and its optimiser in fp32: the default when the Job requests a GPU (1.7
   * GB less for SD 1.5).
   */
  @JsonProperty("mixed")
  MIXED
}
