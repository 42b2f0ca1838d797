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
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Duration;
import java.time.Instant;
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
        .orElseGet(() -> active(erasure, j, pod, trainer, startTime, now));
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
      String startTime,
      Instant now) {
    if (Boolean.TRUE.equals(erasure.getSpec().getSuspend())) {
      return TrainingState.suspended(
          new TrainingState.Reason("SuspendedByUser", "spec.suspend is true"), startTime);
    }
    if (Boolean.TRUE.equals(job.getSpec().getSuspend())
        && erasure.getSpec().getQueueName() != null) {
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
      return podPending(erasure, p, trainer, startTime, now);
    }
    return TrainingState.pending(Map.of(), startTime);
  }

  /** A pod not started yet: stalled on its image or container, unschedulable, or just waiting. */
  private TrainingState podPending(
      ConceptErasure erasure,
      Pod pod,
      Optional<ContainerStatus> trainer,
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
