package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Compute resources and placement of the training pod. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingResources {

  @JsonPropertyDescription("Number of GPUs requested (and limited).")
  @Default("1")
  @Min(0)
  @Max(16)
  private Integer gpus;

  @JsonPropertyDescription("Extended resource name of the GPU.")
  @Default("nvidia.com/gpu")
  @Size(min = 1, max = 253)
  private String gpuResourceName;

  @JsonPropertyDescription("CPU request of the trainer container.")
  private Quantity cpu;

  @JsonPropertyDescription("Memory request and limit of the trainer container.")
  private Quantity memory;

  @JsonPropertyDescription(
      "Size of the scratch volume (an emptyDir: the staged model and output, the training state,"
          + " /tmp): its sizeLimit and the container's ephemeral-storage request. Default: the"
          + " operator's default-scratch (50Gi). The trainer refuses a model that does not fit.")
  private Quantity scratch;

  @JsonPropertyDescription("Node labels the training pod must match.")
  @Size(max = 32)
  private Map<String, @Size(max = 63) String> nodeSelector;

  @JsonPropertyDescription("Tolerations of the training pod (e.g. for GPU taints).")
  @Size(max = 32)
  private List<Toleration> tolerations;

  @JsonPropertyDescription("Affinity of the training pod.")
  private Affinity affinity;

  @JsonPropertyDescription("PriorityClass of the training pod.")
  @Size(max = 253)
  private String priorityClassName;

  @JsonPropertyDescription("RuntimeClass of the training pod (e.g. nvidia).")
  @Size(max = 253)
  private String runtimeClassName;

  public Integer getGpus() {
    return gpus;
  }

  public void setGpus(Integer gpus) {
    this.gpus = gpus;
  }

  public String getGpuResourceName() {
    return gpuResourceName;
  }

  public void setGpuResourceName(String gpuResourceName) {
    this.gpuResourceName = gpuResourceName;
  }

  public Quantity getCpu() {
    return cpu;
  }

  public void setCpu(Quantity cpu) {
    this.cpu = cpu;
  }

  public Quantity getMemory() {
    return memory;
  }

  public void setMemory(Quantity memory) {
    this.memory = memory;
  }

  public Quantity getScratch() {
    return scratch;
  }

  public void setScratch(Quantity scratch) {
    this.scratch = scratch;
  }

  public Map<String, @Size(max = 63) String> getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(Map<String, @Size(max = 63) String> nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations;
  }

  public Affinity getAffinity() {
    return affinity;
  }

  public void setAffinity(Affinity affinity) {
    this.affinity = affinity;
  }

  public String getPriorityClassName() {
    return priorityClassName;
  }

  public void setPriorityClassName(String priorityClassName) {
    this.priorityClassName = priorityClassName;
  }

  public String getRuntimeClassName() {
    return runtimeClassName;
  }

  public void setRuntimeClassName(String runtimeClassName) {
    this.runtimeClassName = runtimeClassName;
  }
}
