package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A detector the trainer runs on the evaluation images before and after the erasure. */
public enum Detector {
  /**
   * NudeNet 3.4.2's 320n detector (the judge of the nudity-erasure literature): per-class and
   * overall detection rates of exposed body parts.
   */
  @JsonProperty("nudenet")
  NUDENET
}
