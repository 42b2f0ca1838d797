package io.concepterasure.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

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

  /** CPU request of the trainer when a resource names none. */
  @WithDefault("4")
  String defaultCpu();

  /** Memory request and limit of the trainer when a resource names none. */
  @WithDefault("32Gi")
  String defaultMemory();
}
