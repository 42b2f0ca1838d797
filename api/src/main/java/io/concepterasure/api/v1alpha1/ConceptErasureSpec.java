package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import java.util.List;

/**
 * What to erase from which model, how, and where the erased model goes. Immutable except suspend.
 */
@ValidationRule(
    value =
        "has(self.method) == has(oldSelf.method) && has(self.evaluation) == has(oldSelf.evaluation) && has(self.resources) == has(oldSelf.resources) && has(self.image) == has(oldSelf.image) && has(self.imagePullSecrets) == has(oldSelf.imagePullSecrets) && has(self.activeDeadlineSeconds) == has(oldSelf.activeDeadlineSeconds) && has(self.backoffLimit) == has(oldSelf.backoffLimit) && has(self.ttlSecondsAfterFinished) == has(oldSelf.ttlSecondsAfterFinished) && has(self.queueName) == has(oldSelf.queueName)",
    message = Immutable.MESSAGE)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConceptErasureSpec {

  @JsonPropertyDescription("The model to erase concepts from.")
  @Required
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private ModelSource model;

  @JsonPropertyDescription(
      "The concepts to erase, at least one; each iteration trains the next one in turn.")
  @Required
  @Size(max = 16)
  @ValidationRule(
      value = "size(self) >= 1",
      message = "concepts must name at least one concept to erase")
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private List<Concept> concepts;

  @JsonPropertyDescription("The erasure method and its hyperparameters.")
  @Default("{}")
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private MethodSpec method;

  @JsonPropertyDescription("Where the erased model is written.")
  @Required
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private OutputTarget output;

  @JsonPropertyDescription("Prompts and seeds for before/after images.")
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private EvaluationSpec evaluation;

  @JsonPropertyDescription("GPUs, CPU, memory and placement of the training pod.")
  @Default("{}")
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private TrainingResources resources;

  @JsonPropertyDescription("Trainer image; defaults to the operator's configured image.")
  @Size(min = 1, max = 512)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private String image;

  @JsonPropertyDescription("Secrets to pull the trainer image with.")
  @Size(max = 8)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription(
      "Suspends the training: the Job is suspended (its pod deleted) until this is false again. The only field that may change.")
  private Boolean suspend;

  @JsonPropertyDescription(
      "Time limit of the Job in seconds; it fails with DeadlineExceeded after it.")
  @Min(1)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private Long activeDeadlineSeconds;

  @JsonPropertyDescription(
      "Retries of the training pod on transient failures (exit code 3) before the Job fails.")
  @Default("2")
  @Min(0)
  @Max(10)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private Integer backoffLimit;

  @JsonPropertyDescription(
      "Seconds after which a finished Job (not this resource, not the output) is deleted.")
  @Min(0)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private Integer ttlSecondsAfterFinished;

  @JsonPropertyDescription(
      "Kueue LocalQueue: the Job gets the kueue.x-k8s.io/queue-name label and is created suspended for Kueue to admit.")
  @Size(min = 1, max = 63)
  @ValidationRule(value = "self == oldSelf", message = Immutable.MESSAGE)
  private String queueName;

  public ModelSource getModel() {
    return model;
  }

  public void setModel(ModelSource model) {
    this.model = model;
  }

  public List<Concept> getConcepts() {
    return concepts;
  }

  public void setConcepts(List<Concept> concepts) {
    this.concepts = concepts;
  }

  public MethodSpec getMethod() {
    return method;
  }

  public void setMethod(MethodSpec method) {
    this.method = method;
  }

  public OutputTarget getOutput() {
    return output;
  }

  public void setOutput(OutputTarget output) {
    this.output = output;
  }

  public EvaluationSpec getEvaluation() {
    return evaluation;
  }

  public void setEvaluation(EvaluationSpec evaluation) {
    this.evaluation = evaluation;
  }

  public TrainingResources getResources() {
    return resources;
  }

  public void setResources(TrainingResources resources) {
    this.resources = resources;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public List<LocalObjectReference> getImagePullSecrets() {
    return imagePullSecrets;
  }

  public void setImagePullSecrets(List<LocalObjectReference> imagePullSecrets) {
    this.imagePullSecrets = imagePullSecrets;
  }

  public Boolean getSuspend() {
    return suspend;
  }

  public void setSuspend(Boolean suspend) {
    this.suspend = suspend;
  }

  public Long getActiveDeadlineSeconds() {
    return activeDeadlineSeconds;
  }

  public void setActiveDeadlineSeconds(Long activeDeadlineSeconds) {
    this.activeDeadlineSeconds = activeDeadlineSeconds;
  }

  public Integer getBackoffLimit() {
    return backoffLimit;
  }

  public void setBackoffLimit(Integer backoffLimit) {
    this.backoffLimit = backoffLimit;
  }

  public Integer getTtlSecondsAfterFinished() {
    return ttlSecondsAfterFinished;
  }

  public void setTtlSecondsAfterFinished(Integer ttlSecondsAfterFinished) {
    this.ttlSecondsAfterFinished = ttlSecondsAfterFinished;
  }

  public String getQueueName() {
    return queueName;
  }

  public void setQueueName(String queueName) {
    this.queueName = queueName;
  }
}
