package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The erasure methods a request can name (docs/method.md). */
public enum ErasureMethod {
  ALL_BUT_ONE("allButOne"),
  ESD("esd"),
  CONCEPT_ABLATION("conceptAblation");

  private final String specName;

  ErasureMethod(String specName) {
    this.specName = specName;
  }

  @JsonValue
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
    for (ErasureMethod method : values()) {
      if (method.specName.equals(name)) {
        return method;
      }
    }
    throw new IllegalArgumentException(
        "unknown method '" + name + "'; expected one of " + specNames());
  }

  public static String specNames() {
    return Arrays.stream(values()).map(ErasureMethod::specName).collect(Collectors.joining(", "));
  }
}
