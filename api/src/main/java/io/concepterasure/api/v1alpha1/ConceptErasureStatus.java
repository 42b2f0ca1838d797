package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What is happening with the erasure and, at the end, where the erased model is. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConceptErasureStatus {

  @JsonPropertyDescription("Pending, Running, Succeeded, Failed or Suspended.")
  private Phase phase;

  @JsonPropertyDescription("Conditions named after states, each with the time it last changed.")
  private List<StatusCondition> conditions;

  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  private Long observedGeneration;

  @JsonPropertyDescription("Name of the training Job.")
  private String jobName;

  @JsonPropertyDescription("When the training pod started running (RFC 3339).")
  private String startTime;

  @JsonPropertyDescription("When the erasure succeeded or failed (RFC 3339).")
  private String completionTime;

  @JsonPropertyDescription("Training progress, reported by the trainer.")
  private Progress progress;

  @JsonPropertyDescription("The result, when succeeded.")
  private ErasureResult result;

  @JsonPropertyDescription("The failure, when failed.")
  private FailureInfo failure;

  public Phase getPhase() {
    return phase;
  }

  public void setPhase(Phase phase) {
    this.phase = phase;
  }

  public List<StatusCondition> getConditions() {
    return conditions;
  }

  public void setConditions(List<StatusCondition> conditions) {
    this.conditions = conditions;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getJobName() {
    return jobName;
  }

  public void setJobName(String jobName) {
    this.jobName = jobName;
  }

  public String getStartTime() {
    return startTime;
  }

  public void setStartTime(String startTime) {
    this.startTime = startTime;
  }

  public String getCompletionTime() {
    return completionTime;
  }

  public void setCompletionTime(String completionTime) {
    this.completionTime = completionTime;
  }

  public Progress getProgress() {
    return progress;
  }

  public void setProgress(Progress progress) {
    this.progress = progress;
  }

  public ErasureResult getResult() {
    return result;
  }

  public void setResult(ErasureResult result) {
    this.result = result;
  }

  public FailureInfo getFailure() {
    return failure;
  }

  public void setFailure(FailureInfo failure) {
    this.failure = failure;
  }
}
