package io.concepterasure.trainer.evaluation;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The detectors {@code evaluation.detector} may name (the CRD's enum of the same values). */
public enum EvaluationDetector {
  /** NudeNet 3.4.2's 320n model ({@link NudeNet}). */
  NUDENET("nudenet");

  private final String specName;

  EvaluationDetector(String specName) {
    this.specName = specName;
  }

  @JsonValue
  public String specName() {
    return specName;
  }

  public static EvaluationDetector fromSpecName(String name) {
    for (EvaluationDetector d : values()) {
      if (d.specName.equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "unknown detector '" + name + "'; expected one of " + specNames());
  }

  public static String specNames() {
    return Arrays.stream(values())
        .map(EvaluationDetector::specName)
        .collect(Collectors.joining(", "));
  }
}
