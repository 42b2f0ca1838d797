package io.concepterasure.operator.status;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.events.EventReason;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The one place the operator's part of the status is written (Keycloak's status aggregator).
 * Conditions keep their lastTransitionTime while their status stays the same; status.progress
 * belongs to the trainer and is never touched here.
 */
public final class ConceptErasureStatusAggregator {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** A transition worth a Kubernetes Event. */
  public record Transition(EventReason reason, String message) {}

  private ConceptErasureStatusAggregator() {}

  /** The status the resource should have; {@code progress} is left null (the trainer's field). */
  public static ConceptErasureStatus next(
      ConceptErasure erasure, TrainingState state, String jobName, Instant now) {
    ConceptErasureStatus previous =
        Optional.ofNullable(erasure.getStatus()).orElseGet(ConceptErasureStatus::new);
    Long generation = erasure.getMetadata().getGeneration();
    ConceptErasureStatus next = new ConceptErasureStatus();
    next.setPhase(state.phase());
    next.setObservedGeneration(generation);
    next.setJobName(jobName != null ? jobName : previous.getJobName());
    next.setStartTime(
        previous.getStartTime() != null ? previous.getStartTime() : state.startTime());
    next.setCompletionTime(state.completionTime());
    next.setResult(state.result());
    next.setFailure(state.failure());
    List<StatusCondition> conditions = new ArrayList<>();
    for (ConditionType type : ConditionType.values()) {
      TrainingState.Reason holds = state.trueConditions().get(type);
      if (holds == null && !type.alwaysShown()) {
        continue;
      }
      StatusCondition condition = new StatusCondition();
      condition.setType(type.type());
      condition.setStatus(holds != null ? "True" : "False");
      condition.setReason(holds != null ? holds.reason() : phaseReason(state.phase()));
      condition.setMessage(holds != null ? holds.message() : "");
      condition.setObservedGeneration(generation);
      Optional<StatusCondition> before = find(previous.getConditions(), type.type());
      condition.setLastTransitionTime(
          before
              .filter(b -> Objects.equals(b.getStatus(), condition.getStatus()))
              .map(StatusCondition::getLastTransitionTime)
              .orElse(now.toString()));
      conditions.add(condition);
    }
    next.setConditions(conditions);
    return next;
  }

  /** Whether patching would change anything; progress, the trainer's field, is left out. */
  public static boolean differs(ConceptErasureStatus current, ConceptErasureStatus next) {
    if (current == null) {
      return true;
    }
    ConceptErasureStatus a = SERIALIZATION.clone(current);
    a.setProgress(null);
    ConceptErasureStatus b = SERIALIZATION.clone(next);
    b.setProgress(null);
    return !SERIALIZATION.asJson(a).equals(SERIALIZATION.asJson(b));
  }

  /** The Events for what changed between two statuses; none when nothing did (no repeats). */
  public static List<Transition> transitions(
      ConceptErasureStatus previous, ConceptErasureStatus next) {
    ConceptErasureStatus before =
        Optional.ofNullable(previous).orElseGet(ConceptErasureStatus::new);
    List<Transition> transitions = new ArrayList<>();
    if (before.getJobName() == null && next.getJobName() != null) {
      transitions.add(
          new Transition(EventReason.JobCreated, "Created training Job " + next.getJobName()));
    }
    for (ConditionType type :
        List.of(ConditionType.QUEUED, ConditionType.STALLED, ConditionType.UNSCHEDULABLE)) {
      Optional<StatusCondition> now =
          find(next.getConditions(), type.type()).filter(c -> "True".equals(c.getStatus()));
      Optional<StatusCondition> was =
          find(before.getConditions(), type.type()).filter(c -> "True".equals(c.getStatus()));
      if (now.isPresent()
          && (was.isEmpty() || !Objects.equals(was.get().getReason(), now.get().getReason()))) {
        EventReason reason =
            switch (type) {
              case QUEUED -> EventReason.Queued;
              case UNSCHEDULABLE -> EventReason.Unschedulable;
              default -> EventReason.valueOf(now.get().getReason());
            };
        transitions.add(new Transition(reason, now.get().getMessage()));
      }
    }
    if (before.getPhase() != next.getPhase()) {
      Phase phase = next.getPhase();
      if (before.getPhase() == Phase.SUSPENDED) {
        transitions.add(new Transition(EventReason.Resumed, "Training resumed"));
      }
      switch (phase) {
        case RUNNING ->
            transitions.add(
                new Transition(EventReason.Running, condition(next, ConditionType.RUNNING)));
        case SUCCEEDED ->
            transitions.add(
                new Transition(
                    EventReason.Succeeded,
                    "Erased model written to " + next.getResult().getOutputUri()));
        case FAILED ->
            transitions.add(
                new Transition(
                    "InvalidSpec".equals(next.getFailure().getReason())
                        ? EventReason.InvalidSpec
                        : EventReason.Failed,
                    next.getFailure().getReason() + ": " + next.getFailure().getMessage()));
        case SUSPENDED ->
            transitions.add(new Transition(EventReason.Suspended, "Training suspended"));
        default -> {}
      }
    }
    return transitions;
  }

  private static String condition(ConceptErasureStatus status, ConditionType type) {
    return find(status.getConditions(), type.type()).map(StatusCondition::getMessage).orElse("");
  }

  private static String phaseReason(Phase phase) {
    return phase.name().charAt(0) + phase.name().substring(1).toLowerCase();
  }

  private static Optional<StatusCondition> find(List<StatusCondition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }
}
