package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the model to erase from is read. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelSource {

  @JsonPropertyDescription(
      "Location of the diffusers-format model: s3://bucket/prefix, pvc://claim/path or hf://org/name[@revision].")
  @Required
  @Size(min = 1, max = 2048)
  @ValidationRule(
      value =
          "self.matches('^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|pvc://[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?(/.*)?|hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?)$')",
      message =
          "model.uri must be s3://bucket/prefix, pvc://claim/path or hf://org/name[@revision]")
  private String uri;

  @JsonPropertyDescription(
      "Secret with the credentials to read the model (S3 keys or a Hugging Face token).")
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
