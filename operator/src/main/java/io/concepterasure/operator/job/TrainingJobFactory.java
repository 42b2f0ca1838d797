package io.concepterasure.operator.job;

import static io.concepterasure.operator.job.TrainerContract.*;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureSpec;
import io.concepterasure.api.v1alpha1.SecretReference;
import io.concepterasure.api.v1alpha1.TrainingResources;
import io.concepterasure.operator.config.KeyValueList;
import io.concepterasure.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the training Job of a ConceptErasure. Pure: the same resource and settings give the same
 * Job.
 */
public final class TrainingJobFactory {
  private static final long NON_ROOT_UID = 65532L;
  private static final String MODEL_SECRET_VOLUME = "model-credentials";
  private static final String OUTPUT_SECRET_VOLUME = "output-credentials";

  private final OperatorSettings settings;

  public TrainingJobFactory(OperatorSettings settings) {
    this.settings = settings;
  }

  public Job build(ConceptErasure erasure) {
    ConceptErasureSpec spec = erasure.getSpec();
    Map<String, String> labels = ErasureLabels.of(erasure, "trainer");
    Map<String, String> jobLabels = new LinkedHashMap<>(labels);
    boolean queued = spec.getQueueName() != null;
    if (queued) {
      jobLabels.put(ErasureLabels.KUEUE_QUEUE_NAME, spec.getQueueName());
    }
    return new JobBuilder()
        .withNewMetadata()
        .withName(ErasureLabels.jobName(erasure))
        .withNamespace(erasure.getMetadata().getNamespace())
        .withLabels(jobLabels)
        .addToAnnotations(ErasureLabels.SPEC_HASH, specHash(erasure))
        .withOwnerReferences(ErasureLabels.controllerReference(erasure))
        .withFinalizers(ErasureLabels.OUTCOME_FINALIZER)
        .endMetadata()
        .withNewSpec()
        // Kueue admits a queued Job by unsuspending it.
        .withSuspend(Boolean.TRUE.equals(spec.getSuspend()) || queued)
        .withBackoffLimit(Optional.ofNullable(spec.getBackoffLimit()).orElse(2))
        .withActiveDeadlineSeconds(spec.getActiveDeadlineSeconds())
        .withTtlSecondsAfterFinished(spec.getTtlSecondsAfterFinished())
        .withPodFailurePolicy(podFailurePolicy())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels(labels))
        .endMetadata()
        .withSpec(podSpec(erasure))
        .endTemplate()
        .endSpec()
        .build();
  }

  /** The operator's configured pod labels (workload identity), under the operator's own. */
  private Map<String, String> podLabels(Map<String, String> labels) {
    Map<String, String> all =
        new LinkedHashMap<>(
            KeyValueList.parse("concepterasure.trainer-pod-labels", settings.trainerPodLabels()));
    all.putAll(labels);
    return all;
  }

  /**
   * Fails the Job at once on invalid input; a node disruption does not count against backoffLimit.
   */
  static PodFailurePolicy podFailurePolicy() {
    return new PodFailurePolicyBuilder()
        .addNewRule()
        .withAction("FailJob")
        .withNewOnExitCodes()
        .withContainerName(ErasureLabels.TRAINER_CONTAINER)
        .withOperator("In")
        .withValues(EXIT_INVALID_INPUT)
        .endOnExitCodes()
        .endRule()
        .addNewRule()
        .withAction("Ignore")
        .addNewOnPodCondition()
        .withType("DisruptionTarget")
        .withStatus("True")
        .endOnPodCondition()
        .endRule()
        .build();
  }

  private PodSpec podSpec(ConceptErasure erasure) {
    ConceptErasureSpec spec = erasure.getSpec();
    TrainingResources resources =
        Optional.ofNullable(spec.getResources()).orElseGet(TrainingResources::new);
    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("request")
            .withNewConfigMap()
            .withName(ErasureLabels.configMapName(erasure))
            .endConfigMap()
            .build());
    mounts.add(
        new VolumeMountBuilder()
            .withName("request")
            .withMountPath(REQUEST_DIR)
            .withReadOnly(true)
            .build());
    // The root filesystem is read-only: scratch space and /tmp come from one emptyDir, sized so
    // that the scheduler places the pod where the disk has room and the kubelet evicts it if it
    // writes more (the trainer checks a model fits before downloading it).
    volumes.add(
        new VolumeBuilder()
            .withName("scratch")
            .withNewEmptyDir()
            .withSizeLimit(scratch(resources))
            .endEmptyDir()
            .build());
    mounts.add(new VolumeMountBuilder().withName("scratch").withMountPath(SCRATCH_DIR).build());
    mounts.add(
        new VolumeMountBuilder()
            .withName("scratch")
            .withMountPath("/tmp")
            .withSubPath("tmp")
            .build());
    secretVolume(
        spec.getModel().getCredentialsSecretRef(),
        MODEL_SECRET_VOLUME,
        MODEL_CREDENTIALS_DIR,
        volumes,
        mounts);
    secretVolume(
        spec.getOutput().getCredentialsSecretRef(),
        OUTPUT_SECRET_VOLUME,
        OUTPUT_CREDENTIALS_DIR,
        volumes,
        mounts);
    pvcVolumes(spec, volumes, mounts);

    Container trainer =
        new ContainerBuilder()
            .withName(ErasureLabels.TRAINER_CONTAINER)
            .withImage(image(erasure))
            .withImagePullPolicy("IfNotPresent")
            .withEnv(env(erasure, scratch(resources), gpus(resources)))
            .withResources(resources(resources))
            .withVolumeMounts(mounts)
            .withTerminationMessagePath(TERMINATION_MESSAGE_PATH)
            .withTerminationMessagePolicy("File")
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withReadOnlyRootFilesystem(true)
            .withAllowPrivilegeEscalation(false)
            .withNewCapabilities()
            .withDrop("ALL")
            .endCapabilities()
            .endSecurityContext()
            .build();

    return new PodSpecBuilder()
        .withRestartPolicy("Never")
        .withServiceAccountName(ErasureLabels.trainerName(erasure))
        // The trainer patches its resource's status.progress with this token (Role: that resource
        // only).
        .withAutomountServiceAccountToken(true)
        .withEnableServiceLinks(false)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(NON_ROOT_UID)
        .withRunAsGroup(NON_ROOT_UID)
        .withFsGroup(NON_ROOT_UID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withContainers(trainer)
        .withVolumes(volumes)
        .withImagePullSecrets(spec.getImagePullSecrets())
        .withNodeSelector(resources.getNodeSelector())
        .withTolerations(resources.getTolerations())
        .withAffinity(resources.getAffinity())
        .withPriorityClassName(resources.getPriorityClassName())
        .withRuntimeClassName(resources.getRuntimeClassName())
        .build();
  }

  private Quantity scratch(TrainingResources resources) {
    return Optional.ofNullable(resources.getScratch())
        .orElse(new Quantity(settings.defaultScratch()));
  }

  private static List<EnvVar> env(ConceptErasure erasure, Quantity scratch, int gpus) {
    ConceptErasureSpec spec = erasure.getSpec();
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar(ENV_RESOURCE_NAME, erasure.getMetadata().getName(), null));
    env.add(
        new EnvVarBuilder()
            .withName(ENV_RESOURCE_NAMESPACE)
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endValueFrom()
            .build());
    env.add(new EnvVar(ENV_REQUEST_FILE, REQUEST_DIR + "/" + REQUEST_KEY, null));
    env.add(new EnvVar(ENV_SCRATCH_DIR, SCRATCH_DIR, null));
    env.add(
        new EnvVar(
            ENV_SCRATCH_SIZE_BYTES,
            Quantity.getAmountInBytes(scratch).toBigInteger().toString(),
            null));
    env.add(new EnvVar("HOME", SCRATCH_DIR, null));
    env.add(new EnvVar(ENV_DJL_CACHE_DIR, SCRATCH_DIR + "/.djl.ai", null));
    env.add(new EnvVar(ENV_PVC_ROOT, PVC_ROOT, null));
    if (gpus > 0) {
      // The trainer refuses to fall back to the CPU when the Job asked for GPUs and sees none.
      env.add(new EnvVar(ENV_GPUS, Integer.toString(gpus), null));
    }
    if (spec.getModel().getCredentialsSecretRef() != null) {
      env.add(new EnvVar(ENV_MODEL_CREDENTIALS_DIR, MODEL_CREDENTIALS_DIR, null));
    }
    if (spec.getOutput().getCredentialsSecretRef() != null) {
      env.add(new EnvVar(ENV_OUTPUT_CREDENTIALS_DIR, OUTPUT_CREDENTIALS_DIR, null));
    }
    return env;
  }

  private ResourceRequirements resources(TrainingResources resources) {
    Quantity cpu =
        Optional.ofNullable(resources.getCpu()).orElse(new Quantity(settings.defaultCpu()));
    Quantity memory =
        Optional.ofNullable(resources.getMemory()).orElse(new Quantity(settings.defaultMemory()));
    int gpus = gpus(resources);
    String gpuName = Optional.ofNullable(resources.getGpuResourceName()).orElse("nvidia.com/gpu");
    ResourceRequirementsBuilder builder =
        new ResourceRequirementsBuilder()
            .addToRequests("cpu", cpu)
            .addToRequests("memory", memory)
            .addToRequests("ephemeral-storage", scratch(resources))
            // No memory overcommit: an OOM kill is reported, not a node's pressure eviction.
            .addToLimits("memory", memory);
    if (gpus > 0) {
      // Extended resources must have requests equal to limits.
      builder
          .addToRequests(gpuName, new Quantity(Integer.toString(gpus)))
          .addToLimits(gpuName, new Quantity(Integer.toString(gpus)));
    }
    return builder.build();
  }

  /**
   * Mounts a referenced Secret read-only; its values never enter the Job, the ConfigMap or a log.
   */
  private static void secretVolume(
      SecretReference ref,
      String volume,
      String path,
      List<Volume> volumes,
      List<VolumeMount> mounts) {
    if (ref == null) {
      return;
    }
    volumes.add(
        new VolumeBuilder()
            .withName(volume)
            .withNewSecret()
            .withSecretName(ref.getName())
            .withDefaultMode(0440)
            .endSecret()
            .build());
    mounts.add(
        new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build());
  }

  /**
   * Each claim named by a pvc:// URI, mounted once; read-only unless the output is written to it.
   */
  private static void pvcVolumes(
      ConceptErasureSpec spec, List<Volume> volumes, List<VolumeMount> mounts) {
    Map<String, Boolean> claims = new LinkedHashMap<>();
    claimOf(spec.getModel().getUri()).ifPresent(c -> claims.merge(c, true, Boolean::logicalAnd));
    claimOf(spec.getOutput().getUri()).ifPresent(c -> claims.merge(c, false, Boolean::logicalAnd));
    int i = 0;
    for (Map.Entry<String, Boolean> claim : claims.entrySet()) {
      String volume = "pvc-" + i++;
      volumes.add(
          new VolumeBuilder()
              .withName(volume)
              .withNewPersistentVolumeClaim()
              .withClaimName(claim.getKey())
              .withReadOnly(claim.getValue())
              .endPersistentVolumeClaim()
              .build());
      mounts.add(
          new VolumeMountBuilder()
              .withName(volume)
              .withMountPath(PVC_ROOT + "/" + claim.getKey())
              .withReadOnly(claim.getValue())
              .build());
    }
  }

  static Optional<String> claimOf(String uri) {
    if (uri == null || !uri.startsWith("pvc://")) {
      return Optional.empty();
    }
    String rest = uri.substring("pvc://".length());
    int slash = rest.indexOf('/');
    return Optional.of(slash < 0 ? rest : rest.substring(0, slash));
  }

  /** GPUs the Job requests: resources.gpus, 1 when unset. */
  private static int gpus(TrainingResources resources) {
    return Optional.ofNullable(resources).map(TrainingResources::getGpus).orElse(1);
  }

  /** spec.image, else the CUDA flavour for a GPU Job and the CPU flavour otherwise. */
  public String image(ConceptErasure erasure) {
    ConceptErasureSpec spec = erasure.getSpec();
    if (spec.getImage() != null) {
      return spec.getImage();
    }
    return gpus(spec.getResources()) > 0 ? settings.trainerGpuImage() : settings.trainerImage();
  }

  /** Identifies what the Job was built from: the request and the image it runs. */
  public String specHash(ConceptErasure erasure) {
    String image = image(erasure);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(TrainerContract.requestYaml(erasure.getSpec()).getBytes(StandardCharsets.UTF_8));
      sha.update(image.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
