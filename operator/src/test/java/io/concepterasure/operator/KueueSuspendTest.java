package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.kueue.KueueWorkloads;
import io.concepterasure.operator.testing.ClusterSimulator;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * spec.suspend of a resource in a Kueue queue, in both orders (before admission, and while
 * running): the operator deactivates and reactivates the Kueue Workload, never touches the Job's
 * spec.suspend (Kueue's), and the status says what Kueue did. The test plays Kueue: it makes the
 * Workload for the Job, admits by unsuspending the Job, and evicts a deactivated one by suspending
 * the Job and deleting its pod.
 */
class KueueSuspendTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  private static OperatorHarness operator;

  private KubernetesClient client;
  private ClusterSimulator cluster;
  private String namespace;

  @BeforeAll
  static void start() throws Exception {
    KubernetesClient admin = API_SERVER.client();
    try (InputStream in =
        KueueSuspendTest.class.getClassLoader().getResourceAsStream("kueue/workloads-crd.yaml")) {
      CustomResourceDefinition crd =
          admin.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      admin.apiextensions().v1().customResourceDefinitions().resource(crd).serverSideApply();
    }
    admin
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName("workloads.kueue.x-k8s.io")
        .waitUntilCondition(
            c ->
                c.getStatus() != null
                    && c.getStatus().getConditions() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            30,
            TimeUnit.SECONDS);
    operator = OperatorHarness.start(API_SERVER, TestSettings.defaults());
  }

  @AfterAll
  static void stop() {
    operator.close();
  }

  @BeforeEach
  void namespace() {
    client = API_SERVER.client();
    cluster = new ClusterSimulator(client);
    namespace = API_SERVER.newNamespace("kueue");
  }

  @Test
  void suspendedBeforeAdmissionTheWorkloadIsDeactivatedAndResumingQueuesItAgain() {
    Job job = queuedJob("early");
    GenericKubernetesResource workload = kueueMakesWorkload(job);
    awaitStatus("early", e -> hasTrue(e, "Queued"));

    setSuspend("early", true);
    awaitActive(workload, false);
    ConceptErasure suspended =
        awaitStatus("early", e -> e.getStatus().getPhase() == Phase.SUSPENDED);
    assertThat(condition(suspended, "Suspended").getReason()).isEqualTo("WorkloadDeactivated");
    assertThat(jobSuspend("early")).as("Kueue's field, untouched").isTrue();

    setSuspend("early", false);
    awaitActive(workload, true);
    ConceptErasure queued = awaitStatus("early", e -> hasTrue(e, "Queued"));
    assertThat(queued.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    kueueAdmits("early");
    awaitStatus("early", e -> e.getStatus().getPhase() == Phase.RUNNING);
  }

  @Test
  void suspendedWhileRunningKueueEvictsItAndResumingReadmitsIt() {
    Job job = queuedJob("late");
    GenericKubernetesResource workload = kueueMakesWorkload(job);
    Pod pod = kueueAdmits("late");
    awaitStatus("late", e -> e.getStatus().getPhase() == Phase.RUNNING);

    setSuspend("late", true);
    awaitActive(workload, false);
    // Until Kueue evicts it, it runs: the status says so.
    assertThat(get("late").getStatus().getPhase()).isEqualTo(Phase.RUNNING);
    assertThat(jobSuspend("late")).isFalse();

    kueueEvicts("late", pod);
    ConceptErasure suspended =
        awaitStatus("late", e -> e.getStatus().getPhase() == Phase.SUSPENDED);
    assertThat(condition(suspended, "Suspended").getMessage()).contains("Kueue Workload");

    setSuspend("late", false);
    awaitActive(workload, true);
    awaitStatus("late", e -> hasTrue(e, "Queued"));
    kueueAdmits("late");
    awaitStatus("late", e -> e.getStatus().getPhase() == Phase.RUNNING);
  }

  private Job queuedJob(String name) {
    ConceptErasure erasure = Samples.nudity(namespace, name);
    erasure.getSpec().setQueueName("gpu-batch");
    client.resource(erasure).create();
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client.batch().v1().jobs().inNamespace(namespace).withName(name + "-erasure").get(),
            j -> j != null);
  }

  /** What Kueue's Job integration makes for a Job with a queue-name label. */
  private GenericKubernetesResource kueueMakesWorkload(Job job) {
    GenericKubernetesResource workload =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kueue.x-k8s.io/v1beta1")
            .withKind("Workload")
            .withNewMetadata()
            .withName("job-" + job.getMetadata().getName() + "-1a2b3")
            .withNamespace(namespace)
            .addToLabels(KueueWorkloads.JOB_UID_LABEL, job.getMetadata().getUid())
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("batch/v1")
                    .withKind("Job")
                    .withName(job.getMetadata().getName())
                    .withUid(job.getMetadata().getUid())
                    .withController(true)
                    .build())
            .endMetadata()
            .addToAdditionalProperties(
                "spec", Map.of("active", true, "queueName", "gpu-batch", "podSets", List.of()))
            .build();
    return client
        .genericKubernetesResources("kueue.x-k8s.io/v1beta1", "Workload")
        .inNamespace(namespace)
        .resource(workload)
        .create();
  }

  /** Kueue admits: unsuspends the Job; the Job controller makes its pod, which runs. */
  private Pod kueueAdmits(String name) {
    Job job = setJobSuspend(name, false);
    return cluster.podRunning(cluster.createPod(job));
  }

  /**
   * Kueue evicts a deactivated Workload: suspends the Job; the Job controller deletes the pod and,
   * as the real one does, clears startTime (the API server refuses a new startTime on an
   * unsuspended Job that still has the old one).
   */
  private void kueueEvicts(String name, Pod pod) {
    setJobSuspend(name, true);
    client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).delete();
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName(name + "-erasure")
        .editStatus(
            j -> {
              j.getStatus().setStartTime(null);
              j.getStatus().setActive(0);
              return j;
            });
  }

  private Job setJobSuspend(String name, boolean suspend) {
    return client
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName(name + "-erasure")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
  }

  private boolean jobSuspend(String name) {
    return Boolean.TRUE.equals(
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(namespace)
            .withName(name + "-erasure")
            .get()
            .getSpec()
            .getSuspend());
  }

  private void setSuspend(String name, boolean suspend) {
    client
        .resources(ConceptErasure.class)
        .inNamespace(namespace)
        .withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
  }

  private void awaitActive(GenericKubernetesResource workload, boolean active) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                KueueWorkloads.active(
                    client
                        .genericKubernetesResources("kueue.x-k8s.io/v1beta1", "Workload")
                        .inNamespace(namespace)
                        .withName(workload.getMetadata().getName())
                        .get()),
            a -> a == active);
  }

  private ConceptErasure get(String name) {
    return client.resources(ConceptErasure.class).inNamespace(namespace).withName(name).get();
  }

  private ConceptErasure awaitStatus(
      String name, java.util.function.Predicate<ConceptErasure> test) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(name), e -> e.getStatus() != null && test.test(e));
  }

  private static StatusCondition condition(ConceptErasure erasure, String type) {
    return erasure.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow();
  }

  private static boolean hasTrue(ConceptErasure erasure, String type) {
    return Optional.ofNullable(erasure.getStatus().getConditions()).orElse(List.of()).stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
