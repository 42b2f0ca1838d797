package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Training progress, patched by the trainer through its own ServiceAccount. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Progress {

  @JsonPropertyDescription("Iterations done.")
  private Integer iteration;

  @JsonPropertyDescription("Iterations requested.")
  private Integer totalIterations;

  @JsonPropertyDescription("Percent done, 0 to 100.")
  private Integer percent;

  @JsonPropertyDescription("Loss of the last iteration.")
  private Double loss;

  @JsonPropertyDescription("Estimated seconds until training ends.")
  private Long secondsRemaining;

  @JsonPropertyDescription("When the trainer last reported (RFC 3339).")
  private String updatedAt;

  public Integer getIteration() {
    return iteration;
  }

  public void setIteration(Integer iteration) {
    this.iteration = iteration;
  }

  public Integer getTotalIterations() {
    return totalIterations;
  }

  public void setTotalIterations(Integer totalIterations) {
    this.totalIterations = totalIterations;
  }

  public Integer getPercent() {
    return percent;
  }

  public void setPercent(Integer percent) {
    this.percent = percent;
  }

  public Double getLoss() {
    return loss;
  }

  public void setLoss(Double loss) {
    this.loss = loss;
  }

  public Long getSecondsRemaining() {
    return secondsRemaining;
  }

  public void setSecondsRemaining(Long secondsRemaining) {
    this.secondsRemaining = secondsRemaining;
  }

  public String getUpdatedAt() {
    return updatedAt;
  }

  public void setUpdatedAt(String updatedAt) {
    this.updatedAt = updatedAt;
  }
}
