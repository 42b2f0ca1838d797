package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.operator.job.ErasureLabels;
import io.concepterasure.operator.testing.ClusterSimulator;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An operator restart at any moment makes no second Job and loses no status. */
class OperatorRestartTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();

  @Test
  void aRestartInTheMiddleMakesNoSecondJobAndLosesNoStatus() {
    KubernetesClient client = API_SERVER.client();
    ClusterSimulator cluster = new ClusterSimulator(client);
    String namespace = API_SERVER.newNamespace("restart");

    OperatorHarness first = OperatorHarness.start(API_SERVER, TestSettings.defaults());
    client.resource(Samples.nudity(namespace, "a")).create();
    Job job =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> client.batch().v1().jobs().inNamespace(namespace).withName("a-erasure").get(),
                j -> j != null);
    Pod pod = cluster.createPod(job);
    cluster.podRunning(pod);
    ConceptErasure running =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> get(client, namespace, "a"),
                e -> e.getStatus() != null && e.getStatus().getPhase() == Phase.RUNNING);
    first.close();

    // While no operator runs: the training finishes, and a new request arrives.
    cluster.podTerminated(
        pod,
        0,
        "Completed",
        "{\"outputUri\":\"s3://erased-models/a\",\"erasureJsonSha256\":\""
            + "cd".repeat(32)
            + "\"}");
    cluster.jobSucceeded(job);
    client.resource(Samples.nudity(namespace, "b")).create();

    try (OperatorHarness second = OperatorHarness.start(API_SERVER, TestSettings.defaults())) {
      ConceptErasure done =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () -> get(client, namespace, "a"),
                  e -> e.getStatus().getPhase() == Phase.SUCCEEDED);
      assertThat(done.getStatus().getStartTime()).isEqualTo(running.getStatus().getStartTime());
      assertThat(done.getStatus().getResult().getErasureJsonSha256()).isEqualTo("cd".repeat(32));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  client.batch().v1().jobs().inNamespace(namespace).withName("b-erasure").get()
                      != null);
      // Restart again while b's Job exists and a is finished: still one Job each, the same ones.
      second.close();
      try (OperatorHarness third = OperatorHarness.start(API_SERVER, TestSettings.defaults())) {
        await()
            .during(Duration.ofSeconds(3))
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems())
                      .extracting(j -> j.getMetadata().getName())
                      .containsExactlyInAnyOrder("a-erasure", "b-erasure");
                  assertThat(
                          client
                              .batch()
                              .v1()
                              .jobs()
                              .inNamespace(namespace)
                              .withName("a-erasure")
                              .get()
                              .getMetadata()
                              .getUid())
                      .isEqualTo(job.getMetadata().getUid());
                });
        assertThat(get(client, namespace, "a").getStatus().getPhase()).isEqualTo(Phase.SUCCEEDED);
        // Transitions were recorded once, not once per operator start.
        assertThat(
                client.v1().events().inNamespace(namespace).list().getItems().stream()
                    .filter(
                        e ->
                            "a".equals(e.getInvolvedObject().getName())
                                && "JobCreated".equals(e.getReason())))
            .singleElement()
            .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
      }
    }
  }

  @Test
  void aJobDeletedByItsTtlWhileTheOperatorWasDownStaysSucceeded() {
    KubernetesClient client = API_SERVER.client();
    ClusterSimulator cluster = new ClusterSimulator(client);
    String namespace = API_SERVER.newNamespace("ttl");

    OperatorHarness first = OperatorHarness.start(API_SERVER, TestSettings.defaults());
    client.resource(Samples.nudity(namespace, "t")).create();
    Job job =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> client.batch().v1().jobs().inNamespace(namespace).withName("t-erasure").get(),
                j -> j != null);
    assertThat(job.getMetadata().getFinalizers()).contains(ErasureLabels.OUTCOME_FINALIZER);
    Pod pod = cluster.createPod(job);
    cluster.podRunning(pod);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> get(client, namespace, "t"),
            e -> e.getStatus() != null && e.getStatus().getPhase() == Phase.RUNNING);
    first.close();

    // While no operator runs: the training succeeds and the TTL controller deletes the Job
    // (background propagation here: kube-api-test has no garbage collector to finish a foreground
    // one).
    cluster.podTerminated(
        pod,
        0,
        "Completed",
        "{\"outputUri\":\"s3://erased-models/t\",\"erasureJsonSha256\":\""
            + "ef".repeat(32)
            + "\"}");
    cluster.jobSucceeded(job);
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName("t-erasure")
        .withPropagationPolicy(DeletionPropagation.BACKGROUND)
        .delete();
    Job terminating = client.batch().v1().jobs().inNamespace(namespace).withName("t-erasure").get();
    assertThat(terminating).as("held by the finalizer").isNotNull();
    assertThat(terminating.getMetadata().getDeletionTimestamp()).isNotNull();

    try (OperatorHarness second = OperatorHarness.start(API_SERVER, TestSettings.defaults())) {
      ConceptErasure done =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> get(client, namespace, "t"), e -> e.getStatus().getPhase().isTerminal());
      assertThat(done.getStatus().getPhase()).isEqualTo(Phase.SUCCEEDED);
      assertThat(done.getStatus().getResult().getErasureJsonSha256()).isEqualTo("ef".repeat(32));
      // Once the outcome is recorded the Job is let go.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  client.batch().v1().jobs().inNamespace(namespace).withName("t-erasure").get()
                      == null);
      assertThat(get(client, namespace, "t").getStatus().getPhase()).isEqualTo(Phase.SUCCEEDED);
    }
  }

  private static ConceptErasure get(KubernetesClient client, String namespace, String name) {
    return client.resources(ConceptErasure.class).inNamespace(namespace).withName(name).get();
  }
}
