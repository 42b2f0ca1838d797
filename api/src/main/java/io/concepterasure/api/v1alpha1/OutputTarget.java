package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the erased model is written. The operator never deletes it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutputTarget {

  @JsonPropertyDescription(
      "Location to write the erased model and erasure.json to: s3://bucket/prefix or pvc://claim/path.")
  @Required
  @Size(min = 1, max = 2048)
  @ValidationRule(
      value =
          "self.matches('^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|pvc://[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?(/.*)?)$')",
      message = "output.uri must be s3://bucket/prefix or pvc://claim/path")
  private String uri;

  @JsonPropertyDescription("Secret with the credentials to write the output.")
  private SecretReference credentialsSecretRef;

  public String getUri() {
    return uri;
  }

  public void setUri(String uri) {
    this.uri = uri;
  }

  public SecretReference getCredentialsSecretRef() {
    return credentialsSecretRef;
  }

  public void setCredentialsSecretRef(SecretReference credentialsSecretRef) {
    this.credentialsSecretRef = credentialsSecretRef;
  }
}
