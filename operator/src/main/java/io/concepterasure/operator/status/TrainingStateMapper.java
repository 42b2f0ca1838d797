package io.concepterasure.operator.status;

import static io.concepterasure.operator.job.TrainerContract.EXIT_INVALID_INPUT;
import static io.concepterasure.operator.job.TrainerContract.EXIT_OOM_KILLED;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ErasureResult;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Maps the Job and its newest pod to a {@link TrainingState}. Pure and side-effect free (Flink's
 * observer): it reads, it never changes anything.
 */
public final class TrainingStateMapper {
  private static final Set<String> IMAGE_PULL =
      Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName");
  private static final Set<String> CONTAINER_CONFIG =
      Set.of("CreateContainerConfigError", "CreateContainerError");
  private static final Set<String> VOLUME_FAILURES = Set.of("FailedMount", "FailedAttachVolume");
  private static final String CONTAINER_CREATING = "ContainerCreating";
  private static final Duration EVENT_POLL = Duration.ofSeconds(15);
  private static final int MAX_MESSAGE = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final OperatorSettings settings;

  public TrainingStateMapper(OperatorSettings settings) {
    this.settings = settings;
  }

  public TrainingState map(
      ConceptErasure erasure,
      List<String> invalidSpec,
      Optional<Job> job,
      Optional<Pod> pod,
      Instant now) {
    return map(erasure, invalidSpec, job, pod, List.of(), now);
  }

  /**
   * @param podEvents the Events about the pod, read only when {@link #needsPodEvents} says so: the
   *     kubelet explains a pod that cannot mount its volumes in Events, not in the pod's status
   */
  public TrainingState map(
      ConceptErasure erasure,
      List<String> invalidSpec,
      Optional<Job> job,
      Optional<Pod> pod,
      List<Event> podEvents,
      Instant now) {
    if (!invalidSpec.isEmpty()) {
      return failed("InvalidSpec", String.join("; ", invalidSpec), null, null, now, false);
    }
    if (job.isEmpty()) {
      return withoutJob(erasure, now);
    }
    Job j = job.get();
    Optional<ContainerStatus> trainer = pod.flatMap(TrainingStateMapper::trainerStatus);
    String startTime = j.getStatus() == null ? null : j.getStatus().getStartTime();
    return finished(erasure, j, trainer, startTime, now)
        .orElseGet(() -> active(erasure, j, pod, trainer, podEvents, startTime, now));
  }

  private static TrainingState withoutJob(ConceptErasure erasure, Instant now) {
    String previousJob = erasure.getStatus() == null ? null : erasure.getStatus().getJobName();
    if (previousJob != null) {
      // Never a second training run for one request: a vanished Job is a failure, not a retry.
      return failed(
          "JobDeleted",
          "Job "
              + previousJob
              + " was deleted before its outcome was observed; "
              + "create a new ConceptErasure to run again",
          null,
          null,
          now,
          false);
    }
    return TrainingState.pending(Map.of(), null);
  }

  /** The outcome, once the Job controller has marked the Job Complete or Failed. */
  private static Optional<TrainingState> finished(
      ConceptErasure erasure,
      Job job,
      Optional<ContainerStatus> trainer,
      String startTime,
      Instant now) {
    if (jobCondition(job, "Complete").isPresent()) {
      String completion =
          Optional.ofNullable(job.getStatus().getCompletionTime()).orElse(now.toString());
      return Optional.of(TrainingState.succeeded(result(erasure, trainer), startTime, completion));
    }
    return jobCondition(job, "Failed").map(c -> failedJob(c, trainer, startTime, now));
  }

  /** A failed Job, explained by the trainer's exit code where it says more than the Job. */
  private static TrainingState failedJob(
      JobCondition condition, Optional<ContainerStatus> trainer, String startTime, Instant now) {
    Optional<ContainerStateTerminated> terminated =
        trainer
            .map(ContainerStatus::getState)
            .map(ContainerState::getTerminated)
            .or(
                () ->
                    trainer.map(ContainerStatus::getLastState).map(ContainerState::getTerminated));
    Integer exitCode = terminated.map(ContainerStateTerminated::getExitCode).orElse(null);
    String reason = Optional.ofNullable(condition.getReason()).orElse("JobFailed");
    String message = Optional.ofNullable(condition.getMessage()).orElse("The training Job failed");
    if (terminated.map(t -> "OOMKilled".equals(t.getReason())).orElse(false)
        || (exitCode != null
            && exitCode == EXIT_OOM_KILLED
            && !"DeadlineExceeded".equals(reason))) {
      reason = "OOMKilled";
      message =
          "The trainer ran out of memory (exit code "
              + exitCode
              + "); raise spec.resources.memory. "
              + message;
    } else if (exitCode != null && exitCode == EXIT_INVALID_INPUT) {
      reason = "InvalidInput";
      message =
          terminated
              .map(ContainerStateTerminated::getMessage)
              .filter(m -> !m.isBlank())
              .orElse("The trainer rejected the request (exit code 2)");
    }
    return failed(
        reason,
        message,
        exitCode,
        startTime,
        Optional.ofNullable(condition.getLastTransitionTime()).map(Instant::parse).orElse(now),
        false);
  }

  /** A Job that has not ended: suspended, queued, running, or waiting for its pod. */
  private TrainingState active(
      ConceptErasure erasure,
      Job job,
      Optional<Pod> pod,
      Optional<ContainerStatus> trainer,
      List<Event> podEvents,
      String startTime,
      Instant now) {
    boolean queued = erasure.getSpec().getQueueName() != null;
    boolean jobSuspended = Boolean.TRUE.equals(job.getSpec().getSuspend());
    if (Boolean.TRUE.equals(erasure.getSpec().getSuspend())) {
      if (!queued) {
        return TrainingState.suspended(
            new TrainingState.Reason("SuspendedByUser", "spec.suspend is true"), startTime);
      }
      if (jobSuspended) {
        return TrainingState.suspended(
            new TrainingState.Reason(
                "WorkloadDeactivated",
                "spec.suspend is true: the Kueue Workload is deactivated and the Job suspended;"
                    + " false queues it again in "
                    + erasure.getSpec().getQueueName()),
            startTime);
      }
      // Kueue has not evicted it yet: what the pod does now is what is true.
    }
    if (jobSuspended && queued) {
      return TrainingState.pending(
          Map.of(
              ConditionType.QUEUED,
              new TrainingState.Reason(
                  "AwaitingAdmission",
                  "Waiting for Kueue to admit the Job to queue "
                      + erasure.getSpec().getQueueName())),
          startTime);
    }
    if (pod.isEmpty()) {
      return TrainingState.pending(Map.of(), startTime);
    }
    Pod p = pod.get();
    String podPhase = p.getStatus() == null ? null : p.getStatus().getPhase();
    if ("Running".equals(podPhase)) {
      String started = Optional.ofNullable(p.getStatus().getStartTime()).orElse(startTime);
      return TrainingState.running(
          new TrainingState.Reason(
              "PodRunning", "Pod " + p.getMetadata().getName() + " is running" + onNode(p)),
          started);
    }
    if ("Pending".equals(podPhase)) {
      return podPending(erasure, p, trainer, podEvents, startTime, now);
    }
    return TrainingState.pending(Map.of(), startTime);
  }

  /** A pod not started yet: stalled on its image or container, unschedulable, or just waiting. */
  private TrainingState podPending(
      ConceptErasure erasure,
      Pod pod,
      Optional<ContainerStatus> trainer,
      List<Event> podEvents,
      String startTime,
      Instant now) {
    Optional<ContainerStateWaiting> waiting =
        trainer.map(ContainerStatus::getState).map(ContainerState::getWaiting);
    if (waiting.isPresent() && waiting.get().getReason() != null) {
      String w = waiting.get().getReason();
      if (IMAGE_PULL.contains(w)) {
        return stalled(
            erasure,
            "ImagePullBackOff",
            waiting.get(),
            settings.imagePullFailureTimeout(),
            startTime,
            now);
      }
      if ("CrashLoopBackOff".equals(w)) {
        return stalled(
            erasure,
            "CrashLoopBackOff",
            waiting.get(),
            settings.crashLoopFailureTimeout(),
            startTime,
            now);
      }
      if (CONTAINER_CONFIG.contains(w)) {
        return stalled(
            erasure,
            "ContainerConfigError",
            waiting.get(),
            settings.crashLoopFailureTimeout(),
            startTime,
            now);
      }
    }
    if (needsPodEvents(Optional.of(pod))) {
      return notStarting(pod, podEvents, startTime, now);
    }
    Optional<PodCondition> unschedulable =
        podCondition(pod, "PodScheduled")
            .filter(c -> "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()));
    if (unschedulable.isEmpty()) {
      return TrainingState.pending(Map.of(), startTime);
    }
    Instant since =
        Optional.ofNullable(unschedulable.get().getLastTransitionTime())
            .map(Instant::parse)
            .orElse(now);
    Duration left = settings.unschedulableReportAfter().minus(Duration.between(since, now));
    if (!left.isNegative() && !left.isZero()) {
      return TrainingState.pendingUntil(Map.of(), startTime, left);
    }
    return TrainingState.pending(
        Map.of(
            ConditionType.UNSCHEDULABLE,
            new TrainingState.Reason(
                "Unschedulable",
                truncate(
                    "Pod "
                        + pod.getMetadata().getName()
                        + " cannot be scheduled: "
                        + Optional.ofNullable(unschedulable.get().getMessage())
                            .orElse("no node fits")))),
        startTime);
  }

  /**
   * Whether the newest pod is scheduled but has not started its container, with nothing in its
   * status that says why: then the reconciler reads the pod's Events for the mapper.
   */
  public static boolean needsPodEvents(Optional<Pod> pod) {
    if (pod.isEmpty()
        || pod.get().getStatus() == null
        || !"Pending".equals(pod.get().getStatus().getPhase())
        || scheduledSince(pod.get()).isEmpty()) {
      return false;
    }
    return trainerStatus(pod.get())
        .map(ContainerStatus::getState)
        .map(ContainerState::getWaiting)
        .map(w -> w.getReason() == null || CONTAINER_CREATING.equals(w.getReason()))
        .orElse(
            pod.get().getStatus().getContainerStatuses() == null
                || pod.get().getStatus().getContainerStatuses().isEmpty()
                || trainerStatus(pod.get()).isEmpty());
  }

  /**
   * A scheduled pod whose container has not been created: a volume that does not mount or attach
   * (the kubelet's and attach-detach controller's Warning events, reported at once), or
   * ContainerCreating for longer than the report time. Fails once the pod has been scheduled for
   * the pod-start timeout (counted from the pod's PodScheduled condition, so an operator restart
   * neither resets nor forgets it); rechecked every {@link #EVENT_POLL} (or the report time, if
   * shorter) meanwhile, since Events do not trigger a reconciliation.
   */
  private TrainingState notStarting(Pod pod, List<Event> podEvents, String startTime, Instant now) {
    Instant since = scheduledSince(pod).orElse(now);
    Duration elapsed = Duration.between(since, now);
    Optional<Event> volume =
        podEvents.stream()
            .filter(e -> "Warning".equals(e.getType()) && VOLUME_FAILURES.contains(e.getReason()))
            .max(Comparator.comparing(TrainingStateMapper::eventTime));
    String group;
    String message;
    if (volume.isPresent()) {
      group = volume.get().getReason();
      message =
          "Pod "
              + pod.getMetadata().getName()
              + ": "
              + Optional.ofNullable(volume.get().getMessage()).orElse(group);
    } else if (elapsed.compareTo(settings.containerCreatingReportAfter()) >= 0) {
      group = CONTAINER_CREATING;
      Optional<Event> last =
          podEvents.stream().max(Comparator.comparing(TrainingStateMapper::eventTime));
      message =
          "Pod "
              + pod.getMetadata().getName()
              + " has not started its container since it was scheduled at "
              + since
              + last.map(e -> "; last event: " + e.getReason() + ": " + e.getMessage()).orElse("");
    } else {
      return TrainingState.pendingUntil(
          Map.of(), startTime, shortest(settings.containerCreatingReportAfter().minus(elapsed)));
    }
    Duration limit = settings.podStartFailureTimeout();
    if (elapsed.compareTo(limit) >= 0) {
      return failed(
          group,
          message + " (for " + elapsed.toSeconds() + "s, limit " + limit.toSeconds() + "s)",
          null,
          startTime,
          now,
          true);
    }
    return TrainingState.pendingUntil(
        Map.of(ConditionType.STALLED, new TrainingState.Reason(group, truncate(message))),
        startTime,
        shortest(limit.minus(elapsed)));
  }

  /** Events do not trigger a reconciliation: look again at least this often. */
  private Duration shortest(Duration left) {
    Duration poll =
        settings.containerCreatingReportAfter().compareTo(EVENT_POLL) < 0
            ? settings.containerCreatingReportAfter()
            : EVENT_POLL;
    return left.compareTo(poll) < 0 ? left : poll;
  }

  private static Optional<Instant> scheduledSince(Pod pod) {
    return podCondition(pod, "PodScheduled")
        .filter(c -> "True".equals(c.getStatus()))
        .map(
            c ->
                Optional.ofNullable(c.getLastTransitionTime())
                    .or(() -> Optional.ofNullable(pod.getMetadata().getCreationTimestamp()))
                    .map(Instant::parse)
                    .orElse(Instant.EPOCH));
  }

  /** When an Event last happened: events.k8s.io's eventTime, or the core API's timestamps. */
  private static Instant eventTime(Event e) {
    String time =
        e.getLastTimestamp() != null
            ? e.getLastTimestamp()
            : e.getEventTime() != null && e.getEventTime().getTime() != null
                ? e.getEventTime().getTime()
                : e.getFirstTimestamp() != null
                    ? e.getFirstTimestamp()
                    : e.getMetadata() == null ? null : e.getMetadata().getCreationTimestamp();
    try {
      return time == null ? Instant.EPOCH : Instant.parse(time);
    } catch (RuntimeException ex) {
      return Instant.EPOCH;
    }
  }

  /**
   * Reported at once; fails the resource when it has lasted the configured time, counted from the
   * Stalled condition's lastTransitionTime so that an operator restart does not reset it.
   */
  private TrainingState stalled(
      ConceptErasure erasure,
      String group,
      ContainerStateWaiting waiting,
      Duration limit,
      String startTime,
      Instant now) {
    Instant since =
        previousCondition(erasure, ConditionType.STALLED)
            .filter(c -> "True".equals(c.getStatus()) && group.equals(c.getReason()))
            .map(StatusCondition::getLastTransitionTime)
            .map(Instant::parse)
            .orElse(now);
    Duration elapsed = Duration.between(since, now);
    String message =
        truncate(waiting.getReason() + ": " + Optional.ofNullable(waiting.getMessage()).orElse(""));
    if (elapsed.compareTo(limit) >= 0) {
      return failed(
          group,
          message + " (for " + elapsed.toSeconds() + "s, limit " + limit.toSeconds() + "s)",
          null,
          startTime,
          now,
          true);
    }
    return TrainingState.pendingUntil(
        Map.of(ConditionType.STALLED, new TrainingState.Reason(group, message)),
        startTime,
        limit.minus(elapsed));
  }

  private static TrainingState failed(
      String reason,
      String message,
      Integer exitCode,
      String startTime,
      Instant completion,
      boolean stopJob) {
    return TrainingState.failed(
        reason, truncate(message), exitCode, startTime, completion, stopJob);
  }

  /**
   * The trainer's termination message: {"outputUri":..., "erasureJsonSha256":..., "metrics":{...}}.
   */
  static ErasureResult result(ConceptErasure erasure, Optional<ContainerStatus> trainer) {
    ErasureResult result = new ErasureResult();
    result.setOutputUri(erasure.getSpec().getOutput().getUri());
    Optional<String> message =
        trainer
            .map(ContainerStatus::getState)
            .map(ContainerState::getTerminated)
            .map(ContainerStateTerminated::getMessage)
            .filter(m -> !m.isBlank());
    if (message.isEmpty()) {
      return result;
    }
    try {
      JsonNode node = JSON.readTree(message.get());
      if (node.hasNonNull("outputUri")) {
        result.setOutputUri(node.get("outputUri").asText());
      }
      if (node.hasNonNull("erasureJsonSha256")) {
        result.setErasureJsonSha256(node.get("erasureJsonSha256").asText());
      }
      JsonNode metrics = node.get("metrics");
      if (metrics != null && metrics.isObject()) {
        Map<String, Double> values = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = metrics.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().isNumber()) {
            values.put(e.getKey(), e.getValue().asDouble());
          }
        }
        result.setMetrics(values);
      }
    } catch (Exception e) {
      // A result without a parsable record still says where the model went; the sha256 stays empty.
    }
    return result;
  }

  private static Optional<ContainerStatus> trainerStatus(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> ErasureLabels.TRAINER_CONTAINER.equals(s.getName()))
        .findFirst();
  }

  private static Optional<JobCondition> jobCondition(Job job, String type) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return job.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
        .findFirst();
  }

  private static Optional<PodCondition> podCondition(Pod pod, String type) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst();
  }

  private static Optional<StatusCondition> previousCondition(
      ConceptErasure erasure, ConditionType type) {
    if (erasure.getStatus() == null || erasure.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return erasure.getStatus().getConditions().stream()
        .filter(c -> type.type().equals(c.getType()))
        .findFirst();
  }

  private static String onNode(Pod pod) {
    return pod.getSpec() != null && pod.getSpec().getNodeName() != null
        ? " on node " + pod.getSpec().getNodeName()
        : "";
  }

  private static String truncate(String message) {
    return message.length() <= MAX_MESSAGE
        ? message
        : message.substring(0, MAX_MESSAGE - 3) + "...";
  }
}
