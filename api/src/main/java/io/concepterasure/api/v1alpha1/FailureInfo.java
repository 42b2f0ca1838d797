package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Why the erasure failed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FailureInfo {

  @JsonPropertyDescription(
      "Machine-readable reason: InvalidSpec, InvalidInput, BackoffLimitExceeded, DeadlineExceeded, OOMKilled, ImagePullBackOff, CrashLoopBackOff, JobDeleted.")
  private String reason;

  @JsonPropertyDescription("Human-readable details.")
  private String message;

  @JsonPropertyDescription("Exit code of the trainer container, when it terminated.")
  private Integer exitCode;

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public Integer getExitCode() {
    return exitCode;
  }

  public void setExitCode(Integer exitCode) {
    this.exitCode = exitCode;
  }
}
