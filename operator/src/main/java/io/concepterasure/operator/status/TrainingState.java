package io.concepterasure.operator.status;

import io.concepterasure.api.v1alpha1.ErasureResult;
import io.concepterasure.api.v1alpha1.FailureInfo;
import io.concepterasure.api.v1alpha1.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What the Job and its pod say about a ConceptErasure at one moment, as the mapper reads it. Made
 * through the named factories, one per phase, so that a reader never meets a row of nulls.
 *
 * @param trueConditions the conditions that hold, each with its reason and message
 * @param stopJob the operator gave up on the Job (e.g. image never pulled) and deletes it
 * @param recheckAfter when a time limit (stall, unschedulable) runs out, if nothing happens before
 */
public record TrainingState(
    Phase phase,
    Map<ConditionType, Reason> trueConditions,
    FailureInfo failure,
    ErasureResult result,
    String startTime,
    String completionTime,
    boolean stopJob,
    Duration recheckAfter) {

  public record Reason(String reason, String message) {}

  /** Pending, with the conditions that explain why (none while nothing is wrong yet). */
  public static TrainingState pending(Map<ConditionType, Reason> conditions, String startTime) {
    return new TrainingState(Phase.PENDING, conditions, null, null, startTime, null, false, null);
  }

  /** Pending, with a time limit that runs out after {@code recheckAfter} unless things move. */
  public static TrainingState pendingUntil(
      Map<ConditionType, Reason> conditions, String startTime, Duration recheckAfter) {
    return new TrainingState(
        Phase.PENDING, conditions, null, null, startTime, null, false, recheckAfter);
  }

  public static TrainingState running(Reason reason, String startTime) {
    return new TrainingState(
        Phase.RUNNING,
        Map.of(ConditionType.RUNNING, reason),
        null,
        null,
        startTime,
        null,
        false,
        null);
  }

  public static TrainingState suspended(Reason reason, String startTime) {
    return new TrainingState(
        Phase.SUSPENDED,
        Map.of(ConditionType.SUSPENDED, reason),
        null,
        null,
        startTime,
        null,
        false,
        null);
  }

  public static TrainingState succeeded(
      ErasureResult result, String startTime, String completionTime) {
    return new TrainingState(
        Phase.SUCCEEDED,
        Map.of(ConditionType.COMPLETE, new Reason("Succeeded", "The erased model was written")),
        null,
        result,
        startTime,
        completionTime,
        false,
        null);
  }

  /**
   * Failed for good, with the reason and message shown on the resource.
   *
   * @param exitCode the trainer's exit code, if it got that far
   * @param stopJob whether the operator deletes the Job (it gave up on it)
   */
  public static TrainingState failed(
      String reason,
      String message,
      Integer exitCode,
      String startTime,
      Instant completion,
      boolean stopJob) {
    FailureInfo failure = new FailureInfo();
    failure.setReason(reason);
    failure.setMessage(message);
    failure.setExitCode(exitCode);
    return new TrainingState(
        Phase.FAILED,
        Map.of(ConditionType.FAILED, new Reason(reason, message)),
        failure,
        null,
        startTime,
        completion.toString(),
        stopJob,
        null);
  }
}
