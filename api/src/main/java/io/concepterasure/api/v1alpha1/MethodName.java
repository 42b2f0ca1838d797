package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The erasure methods the trainer implements (docs/method.md). */
public enum MethodName {
  /** "All but One" (Hong et al. 2024): guidance-term update with the unconditional score held. */
  @JsonProperty("allButOne")
  ALL_BUT_ONE,
  /** Erased Stable Diffusion (Gandikota et al. 2023), a baseline. */
  @JsonProperty("esd")
  ESD,
  /** Model-based Concept Ablation (Kumari et al. 2023), a baseline. */
  @JsonProperty("conceptAblation")
  CONCEPT_ABLATION
}
