package io.concepterasure.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * The operator's own configuration (application.properties or CONCEPTERASURE_* environment
 * variables). Watched namespaces are QOSDK's {@code quarkus.operator-sdk.namespaces}: all by
 * default.
 */
@ConfigMapping(prefix = "concepterasure")
public interface OperatorSettings {

  /** Trainer image used when a resource names none and asks for no GPU (the CPU flavour). */
  @WithDefault("ghcr.io/concepterasure/trainer:0.1.0-SNAPSHOT-cpu")
  String trainerImage();

  /**
   * Trainer image used when a resource names none and asks for GPUs (resources.gpus > 0): the CUDA
   * flavour (tools/images/trainer-cuda.sh builds it). The CPU image refuses a GPU Job.
   */
  @WithDefault("ghcr.io/concepterasure/trainer:0.1.0-SNAPSHOT-cuda")
  String trainerGpuImage();

  /** How long a pod may sit in ErrImagePull/ImagePullBackOff before the resource fails. */
  @WithDefault("10m")
  Duration imagePullFailureTimeout();

  /** How long a container may crash-loop or fail to be created before the resource fails. */
  @WithDefault("10m")
  Duration crashLoopFailureTimeout();

  /**
   * How long a pod may be unschedulable (e.g. no free GPU) before it is reported as a condition.
   */
  @WithDefault("2m")
  Duration unschedulableReportAfter();

  /**
   * How long a scheduled pod may stay ContainerCreating (volumes not mounted, image still pulling)
   * with no event that explains it before that is reported as a condition.
   */
  @WithDefault("2m")
  Duration containerCreatingReportAfter();

  /**
   * How long a scheduled pod may fail to start (FailedMount, FailedAttachVolume, ContainerCreating)
   * before the resource fails. Counted from when it was scheduled, so it includes the image pull.
   */
  @WithDefault("15m")
  Duration podStartFailureTimeout();

  /** CPU request of the trainer when a resource names none. */
  @WithDefault("4")
  String defaultCpu();

  /** Memory request and limit of the trainer when a resource names none. */
  @WithDefault("32Gi")
  String defaultMemory();

  /**
   * Scratch volume size (emptyDir sizeLimit, ephemeral-storage request) when a resource names none:
   * room for an SD 1.x/2.x model in fp32 (about 5 GiB), its erased copy and the training state.
   */
  @WithDefault("50Gi")
  String defaultScratch();

  /**
   * Annotations put on every trainer ServiceAccount, as {@code key=value,key=value}: what cloud
   * workload identity needs, so that object storage works without static keys (IRSA: {@code
   * eks.amazonaws.com/role-arn=arn:aws:iam::…:role/…}; GKE: {@code
   * iam.gke.io/gcp-service-account=…@….iam.gserviceaccount.com}; Azure: {@code
   * azure.workload.identity/client-id=…}).
   */
  Optional<String> trainerServiceAccountAnnotations();

  /**
   * Labels put on every trainer pod, as {@code key=value,…} (Azure Workload Identity's webhook acts
   * on pods labelled {@code azure.workload.identity/use=true}).
   */
  Optional<String> trainerPodLabels();

  /**
   * The Lease that replicas elect a leader on, in the operator's namespace. The chart names it
   * after its release, so two releases in one namespace elect apart.
   */
  @WithDefault("concept-erasure-operator-lease")
  String leaseName();
}
