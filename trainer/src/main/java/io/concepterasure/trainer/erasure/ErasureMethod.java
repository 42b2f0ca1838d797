package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.annotation.JsonValue;
import io.concepterasure.trainer.SpecNamed;

/** The erasure methods a request can name (docs/method.md). */
public enum ErasureMethod implements SpecNamed {
  ALL_BUT_ONE("allButOne"),
  ESD("esd"),
  CONCEPT_ABLATION("conceptAblation");

  private final String specName;

  ErasureMethod(String specName) {
    this.specName = specName;
  }

  @JsonValue
  @Override
  public String specName() {
    return specName;
  }

  /** Whether the method uses a concept's alternative (ESD has none). */
  public boolean usesAlternative() {
    return this != ESD;
  }

  /**
   * @param eta η; for ESD the strength of the negative guidance
   * @param lambda λ (All but One only)
   */
  public ErasureObjective objective(float eta, float lambda) {
    return switch (this) {
      case ALL_BUT_ONE -> new AllButOneObjective(eta, lambda);
      case ESD -> new EsdObjective(eta);
      case CONCEPT_ABLATION -> new ConceptAblationObjective();
    };
  }

  public static ErasureMethod fromSpecName(String name) {
    return SpecNamed.parse(ErasureMethod.class, "method", name);
  }
}
