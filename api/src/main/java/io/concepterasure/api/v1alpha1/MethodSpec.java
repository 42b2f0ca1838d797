package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** The erasure method and its hyperparameters (see docs/method.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MethodSpec {

  @JsonPropertyDescription(
      "The method: allButOne (the default), esd or conceptAblation (baselines).")
  @Default("allButOne")
  private MethodName name;

  @JsonPropertyDescription("Number of training iterations.")
  @Default("400")
  @Min(1)
  @Max(100000)
  private Integer iterations;

  @JsonPropertyDescription("Adam learning rate.")
  @Default("1.0e-5")
  @Min(value = 0, inclusive = false)
  @Max(1)
  private Double learningRate;

  @JsonPropertyDescription("Guidance strength toward the alternative (η).")
  @Default("1.0")
  @Min(0)
  @Max(10)
  private Double eta;

  @JsonPropertyDescription("Weight of the unconditional-drift constraint (λ).")
  @Default("1.0")
  @Min(0)
  @Max(100)
  @JsonProperty("lambda")
  private Double lambda_;

  @JsonPropertyDescription("Classifier-free guidance scale used to sample x_t.")
  @Default("3.0")
  @Min(0)
  @Max(30)
  private Double guidanceScale;

  @JsonPropertyDescription("Number of DDIM steps of the sampling schedule.")
  @Default("50")
  @Min(1)
  @Max(1000)
  private Integer ddimSteps;

  @JsonPropertyDescription(
      "Which UNet parameters are trained: crossAttention (default), crossAttentionKV, nonCrossAttention or all.")
  @Default("crossAttention")
  private ParameterSet parameters;

  @JsonPropertyDescription(
      "Seed of the noise and timestep draws; the same request and seed give the same model.")
  @Default("0")
  @Min(0)
  private Long seed;

  @JsonPropertyDescription(
      "Optional prompts whose conditional prediction must not move (beyond the paper; off when empty).")
  @Size(max = 64)
  private List<@Size(min = 1, max = 1024) String> preservePrompts;

  @JsonPropertyDescription("Weight (μ) of the preservation loss over preservePrompts.")
  @Default("1.0")
  @Min(0)
  @Max(100)
  private Double preserveWeight;

  @JsonPropertyDescription(
      "Dtype of the frozen original UNet during training: fp32, or mixed (float16; the trained"
          + " parameters and the optimiser stay fp32). Unset: mixed on a GPU, fp32 on a CPU.")
  private Precision precision;

  @JsonPropertyDescription(
      "Recompute the UNet's resnets and transformer blocks in the backward pass instead of keeping"
          + " their activations (diffusers' gradient checkpointing): less memory for about one"
          + " more forward pass per iteration; same result.")
  @Default("false")
  private Boolean gradientCheckpointing;

  public MethodName getName() {
    return name;
  }

  public void setName(MethodName name) {
    this.name = name;
  }

  public Integer getIterations() {
    return iterations;
  }

  public void setIterations(Integer iterations) {
    this.iterations = iterations;
  }

  public Double getLearningRate() {
    return learningRate;
  }

  public void setLearningRate(Double learningRate) {
    this.learningRate = learningRate;
  }

  public Double getEta() {
    return eta;
  }

  public void setEta(Double eta) {
    this.eta = eta;
  }

  public Double getLambda_() {
    return lambda_;
  }

  public void setLambda_(Double lambda_) {
    this.lambda_ = lambda_;
  }

  public Double getGuidanceScale() {
    return guidanceScale;
  }

  public void setGuidanceScale(Double guidanceScale) {
    this.guidanceScale = guidanceScale;
  }

  public Integer getDdimSteps() {
    return ddimSteps;
  }

  public void setDdimSteps(Integer ddimSteps) {
    this.ddimSteps = ddimSteps;
  }

  public ParameterSet getParameters() {
    return parameters;
  }

  public void setParameters(ParameterSet parameters) {
    this.parameters = parameters;
  }

  public Long getSeed() {
    return seed;
  }

  public void setSeed(Long seed) {
    this.seed = seed;
  }

  public List<@Size(min = 1, max = 1024) String> getPreservePrompts() {
    return preservePrompts;
  }

  public void setPreservePrompts(List<@Size(min = 1, max = 1024) String> preservePrompts) {
    this.preservePrompts = preservePrompts;
  }

  public Double getPreserveWeight() {
    return preserveWeight;
  }

  public void setPreserveWeight(Double preserveWeight) {
    this.preserveWeight = preserveWeight;
  }

  public Precision getPrecision() {
    return precision;
  }

  public void setPrecision(Precision precision) {
    this.precision = precision;
  }

  public Boolean getGradientCheckpointing() {
    return gradientCheckpointing;
  }

  public void setGradientCheckpointing(Boolean gradientCheckpointing) {
    this.gradientCheckpointing = gradientCheckpointing;
  }
}
