package io.concepterasure.operator.status;

import io.concepterasure.api.v1alpha1.ErasureResult;
import io.concepterasure.api.v1alpha1.FailureInfo;
import io.concepterasure.api.v1alpha1.Phase;
import java.time.Duration;
import java.util.Map;

/**
 * What the Job and its pod say about a ConceptErasure at one moment, as the mapper reads it.
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
}
