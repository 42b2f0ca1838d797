package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.testing.ClusterSimulator;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator against a real kube-apiserver. kube-api-test runs no controllers, so the test plays
 * the Job controller, scheduler and kubelet (ClusterSimulator) by writing Job and pod status, and
 * the garbage collector by deleting what owner references name.
 */
class OperatorLifecycleTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final Duration IMAGE_PULL_LIMIT = Duration.ofSeconds(4);
  static final Duration CONTAINER_CREATING_REPORT = Duration.ofSeconds(3);
  static final Duration POD_START_LIMIT = Duration.ofSeconds(10);
  private static OperatorHarness operator;

  private KubernetesClient client;
  private ClusterSimulator cluster;
  private String namespace;

  @BeforeAll
  static void startOperator() {
    operator =
        OperatorHarness.start(
            API_SERVER,
            TestSettings.defaults()
                .withImagePullFailureTimeout(IMAGE_PULL_LIMIT)
                .withPodStart(CONTAINER_CREATING_REPORT, POD_START_LIMIT));
  }

  @AfterAll
  static void stopOperator() {
    operator.close();
  }

  @BeforeEach
  void namespace() {
    client = API_SERVER.client();
    cluster = new ClusterSimulator(client);
    namespace = API_SERVER.newNamespace("op");
  }

  @Test
  void makesExactlyOneJobAndItsOwnedObjectsAndApplyingTwiceChangesNothing() {
    ConceptErasure erasure = client.resource(Samples.nudity(namespace, "nudity")).serverSideApply();
    Job job = awaitJob("nudity");

    assertThat(job.getMetadata().getName()).isEqualTo("nudity-erasure");
    assertThat(job.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "concept-erasure-operator")
        .containsEntry("concepterasure.io/erasure", "nudity");
    assertThat(job.getMetadata().getAnnotations()).containsKey("concepterasure.io/spec-hash");
    assertThat(job.getSpec().getBackoffLimit()).isEqualTo(2);
    assertThat(job.getSpec().getSuspend()).isFalse();
    assertThat(job.getSpec().getPodFailurePolicy().getRules().get(0).getOnExitCodes().getValues())
        .containsExactly(2);
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getServiceAccountName()).isEqualTo("nudity-trainer");
    var trainer = pod.getContainers().get(0);
    // A GPU Job (the sample asks for one): the CUDA flavour.
    assertThat(trainer.getImage()).isEqualTo(TestSettings.defaults().trainerGpuImage());
    assertThat(trainer.getResources().getLimits())
        .containsEntry("nvidia.com/gpu", new Quantity("1"));
    assertThat(trainer.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(trainer.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(trainer.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    // Credentials only by reference: a Secret volume, no value anywhere in the Job.
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .extracting(v -> v.getSecret().getSecretName())
        .containsOnly("s3-credentials");
    assertThat(trainer.getEnv())
        .allSatisfy(
            e ->
                assertThat(e.getValueFrom() == null || e.getValueFrom().getSecretKeyRef() == null)
                    .isTrue());

    ConfigMap request = client.configMaps().inNamespace(namespace).withName("nudity-request").get();
    assertThat(request.getData().get("request.yaml"))
        .contains("erase: \"nudity\"")
        .contains("s3://models/stable-diffusion-v1-4");
    Role role = client.rbac().roles().inNamespace(namespace).withName("nudity-trainer").get();
    assertThat(role.getRules())
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.getApiGroups()).containsExactly("concepterasure.io");
              assertThat(r.getResourceNames()).containsExactly("nudity");
            });
    assertThat(role.getRules().get(0).getResources()).containsExactly("concepterasures");
    assertThat(role.getRules().get(0).getVerbs()).containsExactly("get");
    assertThat(role.getRules().get(1).getResources()).containsExactly("concepterasures/status");
    assertThat(role.getRules().get(1).getVerbs()).containsExactlyInAnyOrder("get", "patch");
    RoleBinding binding =
        client.rbac().roleBindings().inNamespace(namespace).withName("nudity-trainer").get();
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo("nudity-trainer"));
    ServiceAccount account =
        client.serviceAccounts().inNamespace(namespace).withName("nudity-trainer").get();
    for (HasMetadata owned : List.of(job, request, role, binding, account)) {
      assertOwnedBy(owned, erasure);
    }

    ConceptErasure status =
        awaitStatus(
            "nudity",
            s -> s.getStatus() != null && "nudity-erasure".equals(s.getStatus().getJobName()));
    assertThat(status.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    awaitEvent("nudity", "JobCreated");

    // GitOps applies the same manifest again: nothing changes, no second Job.
    ConceptErasure again = client.resource(Samples.nudity(namespace, "nudity")).serverSideApply();
    assertThat(again.getMetadata().getGeneration())
        .isEqualTo(erasure.getMetadata().getGeneration());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems())
                    .hasSize(1));
  }

  @Test
  void followsThePodToRunningAndTheTerminationMessageToSucceeded() {
    client.resource(Samples.nudity(namespace, "ok")).create();
    Job job = awaitJob("ok");
    Pod pod = cluster.createPod(job);
    cluster.podRunning(pod);
    ConceptErasure running = awaitPhase("ok", Phase.RUNNING);
    assertThat(running.getStatus().getStartTime()).isNotNull();
    assertThat(condition(running, "Running"))
        .satisfies(c -> assertThat(c.getStatus()).isEqualTo("True"));

    // The trainer reports progress through its own ServiceAccount; the operator never overwrites
    // it.
    client
        .resources(ConceptErasure.class)
        .inNamespace(namespace)
        .withName("ok")
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"progress\":{\"iteration\":200,\"totalIterations\":400,\"percent\":50,\"loss\":0.012}}}");
    cluster.podTerminated(
        pod,
        0,
        "Completed",
        "{\"outputUri\":\"s3://erased-models/ok/model\","
            + "\"erasureJsonSha256\":\""
            + "ab".repeat(32)
            + "\",\"metrics\":{\"finalLoss\":0.004,\"unrelatedSsim\":0.91}}");
    cluster.jobSucceeded(job);

    ConceptErasure done = awaitPhase("ok", Phase.SUCCEEDED);
    assertThat(done.getStatus().getResult().getOutputUri())
        .isEqualTo("s3://erased-models/ok/model");
    assertThat(done.getStatus().getResult().getErasureJsonSha256()).isEqualTo("ab".repeat(32));
    assertThat(done.getStatus().getResult().getMetrics()).containsEntry("unrelatedSsim", 0.91);
    assertThat(done.getStatus().getProgress().getPercent()).isEqualTo(50);
    assertThat(done.getStatus().getCompletionTime()).isNotNull();
    assertThat(condition(done, "Complete").getStatus()).isEqualTo("True");
    assertThat(condition(done, "Running").getStatus()).isEqualTo("False");
    awaitEvent("ok", "Succeeded");
    // Events mark transitions: the many status writes above made one Running event, not one each.
    assertThat(events("ok", "Running"))
        .singleElement()
        .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
  }

  @Test
  void reportsOomKilledWithItsExitCode() {
    client.resource(Samples.nudity(namespace, "oom")).create();
    Job job = awaitJob("oom");
    Pod pod = cluster.createPod(job);
    cluster.podTerminated(pod, 137, "OOMKilled", "");
    cluster.jobFailed(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit");

    ConceptErasure failed = awaitPhase("oom", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("OOMKilled");
    assertThat(failed.getStatus().getFailure().getExitCode()).isEqualTo(137);
    assertThat(failed.getStatus().getFailure().getMessage()).contains("spec.resources.memory");
    assertThat(condition(failed, "Failed").getReason()).isEqualTo("OOMKilled");
    awaitEvent("oom", "Failed");
  }

  @Test
  void reportsDeadlineExceeded() {
    ConceptErasure erasure = Samples.nudity(namespace, "slow");
    erasure.getSpec().setActiveDeadlineSeconds(3600L);
    client.resource(erasure).create();
    Job job = awaitJob("slow");
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(3600L);
    cluster.podRunning(cluster.createPod(job));
    awaitPhase("slow", Phase.RUNNING);
    cluster.jobFailed(job, "DeadlineExceeded", "Job was active longer than specified deadline");

    ConceptErasure failed = awaitPhase("slow", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("DeadlineExceeded");
    assertThat(failed.getStatus().getFailure().getMessage())
        .contains("longer than specified deadline");
  }

  @Test
  void reportsTheTrainersInvalidInputExitCode() {
    client.resource(Samples.nudity(namespace, "bad-input")).create();
    Job job = awaitJob("bad-input");
    Pod pod = cluster.createPod(job);
    cluster.podTerminated(
        pod, 2, "Error", "model s3://models/stable-diffusion-v1-4 has no unet/ folder");
    cluster.jobFailed(
        job,
        "PodFailurePolicy",
        "Container trainer for pod exited with code 2 matching FailJob rule");

    ConceptErasure failed = awaitPhase("bad-input", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("InvalidInput");
    assertThat(failed.getStatus().getFailure().getExitCode()).isEqualTo(2);
    assertThat(failed.getStatus().getFailure().getMessage()).contains("has no unet/ folder");
  }

  @Test
  void reportsImagePullBackOffAtOnceAndFailsAfterTheConfiguredTime() {
    client.resource(Samples.nudity(namespace, "pull")).create();
    Job job = awaitJob("pull");
    Pod pod = cluster.createPod(job);
    cluster.podWaiting(
        pod,
        "ImagePullBackOff",
        "Back-off pulling image \"registry.example/concepterasure/trainer:test\"");

    ConceptErasure stalled =
        awaitStatus("pull", e -> e.getStatus() != null && hasTrue(e, "Stalled"));
    assertThat(stalled.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    assertThat(condition(stalled, "Stalled").getReason()).isEqualTo("ImagePullBackOff");
    awaitEvent("pull", "ImagePullBackOff");

    // No further event arrives: the operator rechecks by itself when the limit runs out.
    ConceptErasure failed = awaitPhase("pull", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("ImagePullBackOff");
    assertThat(
            Duration.between(
                Instant.parse(condition(stalled, "Stalled").getLastTransitionTime()),
                Instant.parse(failed.getStatus().getCompletionTime())))
        .isGreaterThanOrEqualTo(IMAGE_PULL_LIMIT.minusSeconds(1));
    // It gave up on the Job, and never makes another one for this request.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .batch()
                            .v1()
                            .jobs()
                            .inNamespace(namespace)
                            .withName("pull-erasure")
                            .get())
                    .isNull());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems())
                    .isEmpty());
  }

  @Test
  void reportsAVolumeThatDoesNotMountAtOnceAndFailsAfterThePodStartTimeout() {
    client.resource(Samples.nudity(namespace, "mount")).create();
    Job job = awaitJob("mount");
    Instant scheduled = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Pod pod = cluster.podCreating(cluster.createPod(job), scheduled);
    // What the kubelet says about a misspelled credentials Secret.
    String kubelet =
        "MountVolume.SetUp failed for volume \"model-credentials\" : secret \"hf-tokn\" not found";
    cluster.podEvent(pod, "Warning", "FailedMount", kubelet, "kubelet");

    ConceptErasure stalled =
        awaitStatus("mount", e -> e.getStatus() != null && hasTrue(e, "Stalled"));
    assertThat(stalled.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    assertThat(condition(stalled, "Stalled").getReason()).isEqualTo("FailedMount");
    assertThat(condition(stalled, "Stalled").getMessage())
        .isEqualTo("Pod " + pod.getMetadata().getName() + ": " + kubelet);
    awaitEvent("mount", "FailedMount");

    // Nothing changes: the operator gives up once the pod has been scheduled for the limit.
    ConceptErasure failed = awaitPhase("mount", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("FailedMount");
    assertThat(failed.getStatus().getFailure().getMessage()).contains(kubelet);
    assertThat(Duration.between(scheduled, Instant.parse(failed.getStatus().getCompletionTime())))
        .isGreaterThanOrEqualTo(POD_START_LIMIT);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .batch()
                            .v1()
                            .jobs()
                            .inNamespace(namespace)
                            .withName("mount-erasure")
                            .get())
                    .isNull());
  }

  @Test
  void reportsAPodContainerCreatingForLongerThanTheReportTimeWithTheLastEvent() {
    client.resource(Samples.nudity(namespace, "creating")).create();
    Job job = awaitJob("creating");
    Pod pod =
        cluster.podCreating(cluster.createPod(job), Instant.now().truncatedTo(ChronoUnit.SECONDS));
    cluster.podEvent(
        pod, "Normal", "Pulling", "Pulling image \"registry.example/trainer:big\"", "kubelet");

    // Not at once: creating a container takes a while.
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(1))
        .untilAsserted(
            () ->
                assertThat(
                        hasTrue(
                            client
                                .resources(ConceptErasure.class)
                                .inNamespace(namespace)
                                .withName("creating")
                                .get(),
                            "Stalled"))
                    .isFalse());
    ConceptErasure stalled =
        awaitStatus("creating", e -> e.getStatus() != null && hasTrue(e, "Stalled"));
    assertThat(condition(stalled, "Stalled").getReason()).isEqualTo("ContainerCreating");
    assertThat(condition(stalled, "Stalled").getMessage())
        .contains("has not started its container")
        .contains("last event: Pulling: Pulling image");

    // A volume that then fails to attach is reported with its own reason.
    cluster.podEvent(
        pod,
        "Warning",
        "FailedAttachVolume",
        "AttachVolume.Attach failed for volume \"pvc-1\" : volume is attached to another node",
        "attachdetach-controller");
    ConceptErasure attach =
        awaitStatus(
            "creating",
            e ->
                hasTrue(e, "Stalled")
                    && "FailedAttachVolume".equals(condition(e, "Stalled").getReason()));
    assertThat(condition(attach, "Stalled").getMessage()).contains("attached to another node");
    ConceptErasure failed = awaitPhase("creating", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("FailedAttachVolume");
  }

  @Test
  void reportsAPodUnschedulableForLongerThanTheConfiguredTime() {
    client.resource(Samples.nudity(namespace, "nogpu")).create();
    Job job = awaitJob("nogpu");
    Pod pod = cluster.createPod(job);
    String scheduler = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.";
    cluster.podUnschedulable(pod, scheduler, Instant.now().minus(Duration.ofMinutes(5)));

    ConceptErasure pending =
        awaitStatus("nogpu", e -> e.getStatus() != null && hasTrue(e, "Unschedulable"));
    assertThat(pending.getStatus().getPhase()).isEqualTo(Phase.PENDING);
    assertThat(condition(pending, "Unschedulable").getMessage()).contains(scheduler);
    awaitEvent("nogpu", "Unschedulable");
  }

  @Test
  void aSpecTheSchemaCannotRefuseFailsWithInvalidSpecAndMakesNoJob() {
    ConceptErasure erasure = Samples.nudity(namespace, "same-uri");
    erasure.getSpec().getOutput().setUri(erasure.getSpec().getModel().getUri());
    client.resource(erasure).create();

    ConceptErasure failed = awaitPhase("same-uri", Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getReason()).isEqualTo("InvalidSpec");
    assertThat(failed.getStatus().getFailure().getMessage())
        .contains("spec.output.uri must differ from spec.model.uri");
    Event event = awaitEvent("same-uri", "InvalidSpec");
    assertThat(event.getType()).isEqualTo("Warning");
    assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems()).isEmpty();
  }

  @Test
  void suspendSuspendsTheJobAndResumingResumesIt() {
    client.resource(Samples.nudity(namespace, "pause")).create();
    awaitJob("pause");
    setSuspend("pause", true);
    awaitPhase("pause", Phase.SUSPENDED);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                Boolean.TRUE.equals(
                    client
                        .batch()
                        .v1()
                        .jobs()
                        .inNamespace(namespace)
                        .withName("pause-erasure")
                        .get()
                        .getSpec()
                        .getSuspend()));
    awaitEvent("pause", "Suspended");

    setSuspend("pause", false);
    awaitPhase("pause", Phase.PENDING);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                Boolean.FALSE.equals(
                    client
                        .batch()
                        .v1()
                        .jobs()
                        .inNamespace(namespace)
                        .withName("pause-erasure")
                        .get()
                        .getSpec()
                        .getSuspend()));
    awaitEvent("pause", "Resumed");
  }

  /**
   * As {@code kubectl patch --type merge} does: no resourceVersion, so the operator's concurrent
   * status writes (which bump it) cannot make the user's change conflict.
   */
  private void setSuspend(String name, boolean suspend) {
    client
        .resources(ConceptErasure.class)
        .inNamespace(namespace)
        .withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
  }

  @Test
  void aQueuedResourceGetsASuspendedJobLabelledForKueue() {
    ConceptErasure erasure = Samples.nudity(namespace, "queued");
    erasure.getSpec().setQueueName("gpu-queue");
    client.resource(erasure).create();
    Job job = awaitJob("queued");
    assertThat(job.getSpec().getSuspend()).isTrue();
    assertThat(job.getMetadata().getLabels())
        .containsEntry("kueue.x-k8s.io/queue-name", "gpu-queue");
    ConceptErasure queued =
        awaitStatus("queued", e -> e.getStatus() != null && hasTrue(e, "Queued"));
    assertThat(queued.getStatus().getPhase()).isEqualTo(Phase.PENDING);

    // Kueue admits it by unsuspending the Job; the operator must not suspend it again.
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName("queued-erasure")
        .edit(
            j -> {
              j.getSpec().setSuspend(false);
              return j;
            });
    cluster.podRunning(
        cluster.createPod(
            client.batch().v1().jobs().inNamespace(namespace).withName("queued-erasure").get()));
    awaitPhase("queued", Phase.RUNNING);
    assertThat(
            client
                .batch()
                .v1()
                .jobs()
                .inNamespace(namespace)
                .withName("queued-erasure")
                .get()
                .getSpec()
                .getSuspend())
        .isFalse();
  }

  @Test
  void deletionCascadesThroughOwnerReferences() {
    // kube-api-test runs no garbage collector: the test checks that every object the operator made
    // (and the pod the Job controller made) is owned, then plays the collector and sees nothing
    // left.
    ConceptErasure erasure = client.resource(Samples.nudity(namespace, "gone")).create();
    Job job = awaitJob("gone");
    Pod pod = cluster.createPod(job);
    List<HasMetadata> owned =
        List.of(
            job,
            client.configMaps().inNamespace(namespace).withName("gone-request").get(),
            client.serviceAccounts().inNamespace(namespace).withName("gone-trainer").get(),
            client.rbac().roles().inNamespace(namespace).withName("gone-trainer").get(),
            client.rbac().roleBindings().inNamespace(namespace).withName("gone-trainer").get());
    owned.forEach(o -> assertOwnedBy(o, erasure));

    client.resource(erasure).delete();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                client.resources(ConceptErasure.class).inNamespace(namespace).withName("gone").get()
                    == null);
    collectGarbage(erasure.getMetadata().getUid());
    collectGarbage(job.getMetadata().getUid());

    assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems()).isEmpty();
    assertThat(client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get())
        .isNull();
    assertThat(client.configMaps().inNamespace(namespace).withName("gone-request").get()).isNull();
    assertThat(client.serviceAccounts().inNamespace(namespace).withName("gone-trainer").get())
        .isNull();
    assertThat(client.rbac().roles().inNamespace(namespace).withName("gone-trainer").get())
        .isNull();
    assertThat(client.rbac().roleBindings().inNamespace(namespace).withName("gone-trainer").get())
        .isNull();
  }

  /** What kube-controller-manager's garbage collector does for objects whose owner is gone. */
  private void collectGarbage(String ownerUid) {
    List<HasMetadata> candidates = new ArrayList<>();
    candidates.addAll(client.batch().v1().jobs().inNamespace(namespace).list().getItems());
    candidates.addAll(client.pods().inNamespace(namespace).list().getItems());
    candidates.addAll(client.configMaps().inNamespace(namespace).list().getItems());
    candidates.addAll(client.serviceAccounts().inNamespace(namespace).list().getItems());
    candidates.addAll(client.rbac().roles().inNamespace(namespace).list().getItems());
    candidates.addAll(client.rbac().roleBindings().inNamespace(namespace).list().getItems());
    candidates.stream()
        .filter(
            o ->
                o.getMetadata().getOwnerReferences().stream()
                    .anyMatch(r -> ownerUid.equals(r.getUid())))
        .forEach(o -> client.resource(o).withGracePeriod(0).delete());
  }

  static void assertOwnedBy(HasMetadata owned, ConceptErasure owner) {
    assertThat(owned.getMetadata().getOwnerReferences())
        .as(owned.getKind() + " " + owned.getMetadata().getName())
        .singleElement()
        .satisfies(
            ref -> {
              assertThat(ref.getUid()).isEqualTo(owner.getMetadata().getUid());
              assertThat(ref.getKind()).isEqualTo("ConceptErasure");
              assertThat(ref.getApiVersion()).isEqualTo("concepterasure.io/v1alpha1");
              assertThat(ref.getController()).isTrue();
              assertThat(ref.getBlockOwnerDeletion()).isTrue();
            });
  }

  private Job awaitJob(String name) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client.batch().v1().jobs().inNamespace(namespace).withName(name + "-erasure").get(),
            j -> j != null);
  }

  private ConceptErasure awaitPhase(String name, Phase phase) {
    return awaitStatus(name, e -> e.getStatus() != null && e.getStatus().getPhase() == phase);
  }

  private ConceptErasure awaitStatus(String name, Predicate<ConceptErasure> test) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client.resources(ConceptErasure.class).inNamespace(namespace).withName(name).get(),
            test::test);
  }

  private Event awaitEvent(String name, String reason) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> events(name, reason), l -> !l.isEmpty())
        .get(0);
  }

  private List<Event> events(String name, String reason) {
    return client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason()))
        .toList();
  }

  static StatusCondition condition(ConceptErasure erasure, String type) {
    return erasure.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "no condition " + type + " in " + erasure.getStatus().getConditions()));
  }

  static boolean hasTrue(ConceptErasure erasure, String type) {
    return Optional.ofNullable(erasure.getStatus().getConditions()).orElse(List.of()).stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
