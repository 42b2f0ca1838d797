package io.concepterasure.trainer.evaluation;

import com.fasterxml.jackson.annotation.JsonValue;
import io.concepterasure.trainer.SpecNamed;

/** The detectors {@code evaluation.detector} may name (the CRD's enum of the same values). */
public enum EvaluationDetector implements SpecNamed {
  /** NudeNet 3.4.2's 320n model ({@link NudeNet}). */
  NUDENET("nudenet");

  private final String specName;

  EvaluationDetector(String specName) {
    this.specName = specName;
  }

  @JsonValue
  @Override
  public String specName() {
    return specName;
  }

  public static EvaluationDetector fromSpecName(String name) {
    return SpecNamed.parse(EvaluationDetector.class, "detector", name);
  }
}
