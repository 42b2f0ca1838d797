package io.concepterasure.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.TrainingResources;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrainingJobFactoryTest {
  private final TrainingJobFactory factory = new TrainingJobFactory(TestSettings.defaults());

  private static ConceptErasure erasure() {
    ConceptErasure e = Samples.nudity("ml", "nudity");
    e.getMetadata().setUid("0b7d3f1e-0000-0000-0000-000000000001");
    return e;
  }

  @Test
  void namesLabelsOwnerAndHash() {
    Job job = factory.build(erasure());
    assertThat(job.getMetadata().getName()).isEqualTo("nudity-erasure");
    assertThat(job.getMetadata().getNamespace()).isEqualTo("ml");
    assertThat(job.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "concept-erasure-operator")
        .containsEntry("concepterasure.io/erasure", "nudity")
        .doesNotContainKey("kueue.x-k8s.io/queue-name");
    assertThat(job.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getUid()).isEqualTo("0b7d3f1e-0000-0000-0000-000000000001");
              assertThat(r.getController()).isTrue();
              assertThat(r.getBlockOwnerDeletion()).isTrue();
            });
    assertThat(job.getMetadata().getAnnotations().get("concepterasure.io/spec-hash")).hasSize(16);
    // Pods carry the resource's name so the operator can find them.
    assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("concepterasure.io/erasure", "nudity");
  }

  @Test
  void isDeterministicAndTheHashIgnoresSuspendButNotTheRequest() {
    ConceptErasure a = erasure();
    assertThat(new KubernetesSerialization().asJson(factory.build(a)))
        .isEqualTo(new KubernetesSerialization().asJson(factory.build(erasure())));
    ConceptErasure suspended = erasure();
    suspended.getSpec().setSuspend(true);
    assertThat(factory.specHash(suspended)).isEqualTo(factory.specHash(a));
    ConceptErasure other = erasure();
    other.getSpec().getConcepts().get(0).setAlternative("clothed person");
    assertThat(factory.specHash(other)).isNotEqualTo(factory.specHash(a));
  }

  @Test
  void failurePoliciesAndLimits() {
    ConceptErasure e = erasure();
    e.getSpec().setBackoffLimit(4);
    e.getSpec().setActiveDeadlineSeconds(7200L);
    e.getSpec().setTtlSecondsAfterFinished(86400);
    Job job = factory.build(e);
    assertThat(job.getSpec().getBackoffLimit()).isEqualTo(4);
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(7200L);
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(86400);
    assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
    var rules = job.getSpec().getPodFailurePolicy().getRules();
    assertThat(rules.get(0).getAction()).isEqualTo("FailJob");
    assertThat(rules.get(0).getOnExitCodes().getContainerName()).isEqualTo("trainer");
    assertThat(rules.get(0).getOnExitCodes().getValues())
        .containsExactly(TrainerContract.EXIT_INVALID_INPUT);
    assertThat(rules.get(1).getAction()).isEqualTo("Ignore");
  }

  @Test
  void hardenedPodWithGpuAndScratchSpace() {
    PodSpec pod = factory.build(erasure()).getSpec().getTemplate().getSpec();
    Container trainer = pod.getContainers().get(0);
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(trainer.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(trainer.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(trainer.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(trainer.getResources().getRequests())
        .containsEntry("nvidia.com/gpu", new Quantity("1"))
        .containsEntry("cpu", new Quantity("4"))
        .containsEntry("memory", new Quantity("32Gi"));
    assertThat(trainer.getResources().getLimits())
        .containsEntry("nvidia.com/gpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("32Gi"));
    assertThat(trainer.getVolumeMounts())
        .extracting(VolumeMount::getMountPath)
        .contains("/etc/concepterasure", "/scratch", "/tmp");
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
    assertThat(pod.getServiceAccountName()).isEqualTo("nudity-trainer");
    assertThat(trainer.getTerminationMessagePath()).isEqualTo("/dev/termination-log");
    // Everything the trainer writes goes to the scratch emptyDir: the root filesystem is read-only.
    assertThat(trainer.getEnv())
        .filteredOn(
            env -> Set.of("HOME", "DJL_CACHE_DIR", "CE_SCRATCH_DIR").contains(env.getName()))
        .hasSize(3)
        .allSatisfy(env -> assertThat(env.getValue()).startsWith("/scratch"));
    // A GPU Job: the CUDA flavour, and the trainer told how many GPUs it must see.
    assertThat(trainer.getImage()).isEqualTo(TestSettings.defaults().trainerGpuImage());
    assertThat(trainer.getEnv())
        .filteredOn(env -> env.getName().equals(TrainerContract.ENV_GPUS))
        .singleElement()
        .satisfies(env -> assertThat(env.getValue()).isEqualTo("1"));
  }

  @Test
  void aCpuJobRunsTheCpuFlavourAndIsToldOfNoGpu() {
    ConceptErasure e = erasure();
    TrainingResources r = new TrainingResources();
    r.setGpus(0);
    e.getSpec().setResources(r);
    Container trainer = factory.build(e).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(trainer.getImage()).isEqualTo(TestSettings.defaults().trainerImage());
    assertThat(trainer.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
    assertThat(trainer.getEnv()).noneMatch(env -> env.getName().equals(TrainerContract.ENV_GPUS));
    // The image is part of what the Job was built from.
    assertThat(factory.specHash(e)).isNotEqualTo(factory.specHash(erasure()));
  }

  @Test
  void theScratchVolumeIsSizedByTheSpecOrTheOperatorsDefault() {
    PodSpec pod = factory.build(erasure()).getSpec().getTemplate().getSpec();
    assertThat(scratchLimit(pod)).isEqualTo(new Quantity("50Gi"));
    assertThat(pod.getContainers().get(0).getResources().getRequests())
        .containsEntry("ephemeral-storage", new Quantity("50Gi"));
    assertThat(env(pod, "CE_SCRATCH_SIZE_BYTES")).isEqualTo(Long.toString(50L << 30));

    ConceptErasure e = erasure();
    TrainingResources r = new TrainingResources();
    r.setScratch(new Quantity("200G"));
    e.getSpec().setResources(r);
    pod = factory.build(e).getSpec().getTemplate().getSpec();
    assertThat(scratchLimit(pod)).isEqualTo(new Quantity("200G"));
    assertThat(pod.getContainers().get(0).getResources().getRequests())
        .containsEntry("ephemeral-storage", new Quantity("200G"));
    assertThat(env(pod, "CE_SCRATCH_SIZE_BYTES")).isEqualTo("200000000000");
  }

  private static Quantity scratchLimit(PodSpec pod) {
    return pod.getVolumes().stream()
        .filter(v -> "scratch".equals(v.getName()))
        .findFirst()
        .orElseThrow()
        .getEmptyDir()
        .getSizeLimit();
  }

  private static String env(PodSpec pod, String name) {
    return pod.getContainers().get(0).getEnv().stream()
        .filter(v -> name.equals(v.getName()))
        .findFirst()
        .orElseThrow()
        .getValue();
  }

  @Test
  void credentialsOnlyAsMountedSecretReferences() {
    PodSpec pod = factory.build(erasure()).getSpec().getTemplate().getSpec();
    Container trainer = pod.getContainers().get(0);
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .hasSize(2)
        .allSatisfy(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("s3-credentials"));
    assertThat(trainer.getVolumeMounts())
        .filteredOn(m -> m.getMountPath().startsWith("/var/run/secrets/concepterasure"))
        .allSatisfy(m -> assertThat(m.getReadOnly()).isTrue());
    assertThat(trainer.getEnv())
        .extracting(EnvVar::getName)
        .contains(
            "CE_RESOURCE_NAME",
            "CE_RESOURCE_NAMESPACE",
            "CE_REQUEST_FILE",
            "CE_MODEL_CREDENTIALS_DIR",
            "CE_OUTPUT_CREDENTIALS_DIR");
    assertThat(trainer.getEnv())
        .allSatisfy(
            env ->
                assertThat(
                        env.getValueFrom() == null || env.getValueFrom().getSecretKeyRef() == null)
                    .isTrue());
  }

  @Test
  void pvcUrisAreMountedOnceEachReadOnlyUnlessWrittenTo() {
    ConceptErasure e = erasure();
    e.getSpec().getModel().setUri("pvc://models/sd14");
    e.getSpec().getOutput().setUri("pvc://models/erased/nudity");
    PodSpec pod = factory.build(e).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getPersistentVolumeClaim() != null)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("models");
              assertThat(v.getPersistentVolumeClaim().getReadOnly()).isFalse();
            });
    e.getSpec().getOutput().setUri("s3://out/nudity");
    PodSpec readOnly = factory.build(e).getSpec().getTemplate().getSpec();
    assertThat(readOnly.getVolumes())
        .filteredOn(v -> v.getPersistentVolumeClaim() != null)
        .singleElement()
        .satisfies(v -> assertThat(v.getPersistentVolumeClaim().getReadOnly()).isTrue());
  }

  @Test
  void placementAndKueue() {
    ConceptErasure e = erasure();
    TrainingResources r = new TrainingResources();
    r.setGpus(2);
    r.setGpuResourceName("amd.com/gpu");
    r.setMemory(new Quantity("64Gi"));
    r.setNodeSelector(Map.of("gpu", "a100"));
    r.setTolerations(
        List.of(new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").build()));
    r.setPriorityClassName("batch-low");
    r.setRuntimeClassName("nvidia");
    e.getSpec().setResources(r);
    e.getSpec().setQueueName("team-a");
    e.getSpec().setImage("registry.example/trainer:2");
    Job job = factory.build(e);
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers().get(0).getResources().getLimits())
        .containsEntry("amd.com/gpu", new Quantity("2"))
        .containsEntry("memory", new Quantity("64Gi"));
    assertThat(pod.getNodeSelector()).containsEntry("gpu", "a100");
    assertThat(pod.getTolerations()).hasSize(1);
    assertThat(pod.getPriorityClassName()).isEqualTo("batch-low");
    assertThat(pod.getRuntimeClassName()).isEqualTo("nvidia");
    assertThat(pod.getContainers().get(0).getImage()).isEqualTo("registry.example/trainer:2");
    assertThat(job.getSpec().getSuspend()).isTrue();
    assertThat(job.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", "team-a");
  }

  @Test
  void theRequestFileIsTheSpecWithoutSuspend() {
    ConceptErasure e = erasure();
    e.getSpec().setSuspend(true);
    String yaml = TrainerContract.requestYaml(e.getSpec());
    assertThat(yaml)
        .contains("erase: \"nudity\"")
        .contains("uri: \"s3://erased-models/nudity\"")
        .doesNotContain("suspend");
    assertThat(e.getSpec().getSuspend()).as("the resource itself is not changed").isTrue();
  }
}
