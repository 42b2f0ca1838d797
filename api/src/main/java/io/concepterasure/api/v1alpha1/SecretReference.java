package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A Secret in the resource's namespace, mounted read-only into the trainer; never copied. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretReference {

  @JsonPropertyDescription(
      "Name of a Secret in the same namespace. Its keys are mounted as files for the trainer (see docs/api.md); the operator never reads or copies them.")
  @Required
  @Size(min = 1, max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  private String name;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }
}
