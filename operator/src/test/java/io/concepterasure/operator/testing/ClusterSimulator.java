package io.concepterasure.operator.testing;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Plays the parts kube-api-test does not run: the Job controller (makes the pod, writes Job
 * status), the scheduler and the kubelet (write pod status). Writes go through the status
 * subresources of the real API server, which validates them.
 *
 * <p>Kept only for the fast lifecycle tests whose conditions a real node cannot produce on demand
 * (an OOMKilled container, an image pull that fails, a crash loop, an unschedulable pod, a Job that
 * vanished while the operator was down). What a node can do is tested on a real one: {@code
 * e2e/ConceptErasureEndToEndIT}.
 */
public final class ClusterSimulator {
  private final KubernetesClient client;

  public ClusterSimulator(KubernetesClient client) {
    this.client = client;
  }

  /**
   * What the Job controller does: a pod from the template, owned by the Job; the Job becomes
   * active.
   */
  public Pod createPod(Job job) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(
                job.getMetadata().getName() + "-" + Long.toString(System.nanoTime() % 100000, 36))
            .withNamespace(job.getMetadata().getNamespace())
            .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
            .addToLabels("batch.kubernetes.io/job-name", job.getMetadata().getName())
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("batch/v1")
                    .withKind("Job")
                    .withName(job.getMetadata().getName())
                    .withUid(job.getMetadata().getUid())
                    .withController(true)
                    .withBlockOwnerDeletion(true)
                    .build())
            .endMetadata()
            .withSpec(job.getSpec().getTemplate().getSpec())
            .build();
    Pod created = client.pods().resource(pod).create();
    startJob(job);
    return created;
  }

  private void startJob(Job job) {
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName())
        .editStatus(
            j -> {
              // The API server refuses to change startTime of a running (unsuspended) Job.
              if (j.getStatus().getStartTime() == null) {
                j.getStatus().setStartTime(now());
              }
              j.getStatus().setActive(1);
              return j;
            });
  }

  public Pod podRunning(Pod pod) {
    return editPodStatus(
        pod,
        p -> {
          p.getStatus().setPhase("Running");
          p.getStatus().setStartTime(now());
          p.getStatus()
              .setConditions(List.of(condition("PodScheduled", "True", null, null, now())));
          p.getStatus()
              .setContainerStatuses(
                  List.of(
                      new ContainerStatusBuilder()
                          .withName("trainer")
                          .withImage(p.getSpec().getContainers().get(0).getImage())
                          .withImageID("")
                          .withReady(true)
                          .withRestartCount(0)
                          .withStarted(true)
                          .withState(
                              new ContainerStateBuilder()
                                  .withNewRunning()
                                  .withStartedAt(now())
                                  .endRunning()
                                  .build())
                          .build()));
        });
  }

  public Pod podWaiting(Pod pod, String reason, String message) {
    return editPodStatus(
        pod,
        p -> {
          p.getStatus().setPhase("Pending");
          p.getStatus()
              .setConditions(List.of(condition("PodScheduled", "True", null, null, now())));
          p.getStatus()
              .setContainerStatuses(
                  List.of(
                      new ContainerStatusBuilder()
                          .withName("trainer")
                          .withImage(p.getSpec().getContainers().get(0).getImage())
                          .withImageID("")
                          .withReady(false)
                          .withRestartCount(0)
                          .withStarted(false)
                          .withState(
                              new ContainerStateBuilder()
                                  .withNewWaiting()
                                  .withReason(reason)
                                  .withMessage(message)
                                  .endWaiting()
                                  .build())
                          .build()));
        });
  }

  /**
   * What the kubelet reports while it prepares a pod's volumes and image: Pending, scheduled at
   * {@code scheduledAt}, the container waiting with reason ContainerCreating.
   */
  public Pod podCreating(Pod pod, Instant scheduledAt) {
    return editPodStatus(
        pod,
        p -> {
          p.getStatus().setPhase("Pending");
          p.getStatus()
              .setConditions(
                  List.of(condition("PodScheduled", "True", null, null, scheduledAt.toString())));
          p.getStatus()
              .setContainerStatuses(
                  List.of(
                      new ContainerStatusBuilder()
                          .withName("trainer")
                          .withImage(p.getSpec().getContainers().get(0).getImage())
                          .withImageID("")
                          .withReady(false)
                          .withRestartCount(0)
                          .withStarted(false)
                          .withState(
                              new ContainerStateBuilder()
                                  .withNewWaiting()
                                  .withReason("ContainerCreating")
                                  .endWaiting()
                                  .build())
                          .build()));
        });
  }

  /**
   * An Event about the pod as the kubelet (or the attach-detach controller) records it: the core v1
   * API, involvedObject the pod with its uid, source and timestamps set.
   */
  public Event podEvent(Pod pod, String type, String reason, String message, String component) {
    Pod current =
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .get();
    return client
        .v1()
        .events()
        .inNamespace(pod.getMetadata().getNamespace())
        .resource(
            new EventBuilder()
                .withNewMetadata()
                .withName(pod.getMetadata().getName() + "." + Long.toHexString(System.nanoTime()))
                .withNamespace(pod.getMetadata().getNamespace())
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(current.getMetadata().getName())
                .withNamespace(current.getMetadata().getNamespace())
                .withUid(current.getMetadata().getUid())
                .withResourceVersion(current.getMetadata().getResourceVersion())
                .endInvolvedObject()
                .withType(type)
                .withReason(reason)
                .withMessage(message)
                .withNewSource()
                .withComponent(component)
                .withHost(component.equals("kubelet") ? "node-1" : null)
                .endSource()
                .withFirstTimestamp(now())
                .withLastTimestamp(now())
                .withCount(1)
                .build())
        .create();
  }

  public Pod podUnschedulable(Pod pod, String message, Instant since) {
    return editPodStatus(
        pod,
        p -> {
          p.getStatus().setPhase("Pending");
          p.getStatus()
              .setConditions(
                  List.of(
                      condition(
                          "PodScheduled", "False", "Unschedulable", message, since.toString())));
        });
  }

  /** The kubelet's record of a finished container, with its termination message. */
  public Pod podTerminated(Pod pod, int exitCode, String reason, String terminationMessage) {
    return editPodStatus(
        pod,
        p -> {
          p.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
          p.getStatus()
              .setContainerStatuses(
                  List.of(
                      new ContainerStatusBuilder()
                          .withName("trainer")
                          .withImage(p.getSpec().getContainers().get(0).getImage())
                          .withImageID("")
                          .withReady(false)
                          .withRestartCount(0)
                          .withStarted(false)
                          .withState(
                              new ContainerStateBuilder()
                                  .withNewTerminated()
                                  .withExitCode(exitCode)
                                  .withReason(reason)
                                  .withMessage(terminationMessage)
                                  .withStartedAt(now())
                                  .withFinishedAt(now())
                                  .endTerminated()
                                  .build())
                          .build()));
        });
  }

  /**
   * The Job controller's success: SuccessCriteriaMet, then Complete (the API server checks the
   * order).
   */
  public Job jobSucceeded(Job job) {
    return editJobStatus(
        job,
        List.of(
            jobCondition(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods"),
            jobCondition(
                "Complete", "CompletionsReached", "Reached expected number of succeeded pods")),
        true);
  }

  /**
   * The Job controller's failure with the given reason (BackoffLimitExceeded, DeadlineExceeded,
   * PodFailurePolicy).
   */
  public Job jobFailed(Job job, String reason, String message) {
    return editJobStatus(
        job,
        List.of(
            jobCondition("FailureTarget", reason, message),
            jobCondition("Failed", reason, message)),
        false);
  }

  private Job editJobStatus(Job job, List<JobCondition> conditions, boolean succeeded) {
    return client
        .batch()
        .v1()
        .jobs()
        .inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName())
        .editStatus(
            j -> {
              List<JobCondition> all =
                  new ArrayList<>(
                      j.getStatus().getConditions() == null
                          ? List.of()
                          : j.getStatus().getConditions());
              all.addAll(conditions);
              j.getStatus().setConditions(all);
              j.getStatus().setActive(0);
              if (j.getStatus().getStartTime() == null) {
                j.getStatus().setStartTime(now());
              }
              if (succeeded) {
                j.getStatus().setSucceeded(1);
                j.getStatus().setCompletionTime(now());
              } else {
                j.getStatus().setFailed(1);
              }
              j.getStatus().setReady(0);
              j.getStatus().setTerminating(0);
              j.getStatus().setUncountedTerminatedPods(null);
              return j;
            });
  }

  private Pod editPodStatus(Pod pod, Consumer<Pod> change) {
    return client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              if (p.getStatus() == null) {
                p.setStatus(new PodStatus());
              }
              change.accept(p);
              return p;
            });
  }

  private static JobCondition jobCondition(String type, String reason, String message) {
    return new JobConditionBuilder()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .withMessage(message)
        .withLastProbeTime(now())
        .withLastTransitionTime(now())
        .build();
  }

  private static PodCondition condition(
      String type, String status, String reason, String message, String since) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastTransitionTime(since)
        .build();
  }

  private static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
