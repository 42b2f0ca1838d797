package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/** Where the erased model is, from the trainer's termination message. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ErasureResult {

  @JsonPropertyDescription("Location of the erased model.")
  private String outputUri;

  @JsonPropertyDescription("SHA-256 of the erasure.json record written next to the model.")
  private String erasureJsonSha256;

  @JsonPropertyDescription(
      "Key metrics of the run (final loss, CLIP scores, SSIM of unrelated prompts, ...).")
  private Map<String, Double> metrics;

  public String getOutputUri() {
    return outputUri;
  }

  public void setOutputUri(String outputUri) {
    this.outputUri = outputUri;
  }

  public String getErasureJsonSha256() {
    return erasureJsonSha256;
  }

  public void setErasureJsonSha256(String erasureJsonSha256) {
    this.erasureJsonSha256 = erasureJsonSha256;
  }

  public Map<String, Double> getMetrics() {
    return metrics;
  }

  public void setMetrics(Map<String, Double> metrics) {
    this.metrics = metrics;
  }
}
