package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A concept to erase and, optionally, the concept that takes its place. */
@ValidationRule(
    value = "!has(self.alternative) || self.alternative != self.erase",
    message = "concepts[].alternative must differ from concepts[].erase")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Concept {

  @JsonPropertyDescription(
      "The concept to erase, as a prompt (e.g. \"nudity\", \"Van Gogh style\").")
  @Required
  @Size(min = 1, max = 256)
  @ValidationRule(
      value = "self.trim() != ''",
      message = "concepts[].erase must not be empty or blank")
  private String erase;

  @JsonPropertyDescription(
      "The concept that takes its place (e.g. \"dry brushing\"). Empty: the concept's guidance is removed.")
  @Size(min = 1, max = 256)
  private String alternative;

  public String getErase() {
    return erase;
  }

  public void setErase(String erase) {
    this.erase = erase;
  }

  public String getAlternative() {
    return alternative;
  }

  public void setAlternative(String alternative) {
    this.alternative = alternative;
  }
}
