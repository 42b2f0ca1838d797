package io.concepterasure.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.ErasureResult;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.Progress;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.events.EventReason;
import io.concepterasure.operator.testing.Samples;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConceptErasureStatusAggregatorTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  private static final Instant T1 = Instant.parse("2026-01-01T10:05:00Z");

  private static TrainingState running() {
    return new TrainingState(
        Phase.RUNNING,
        Map.of(ConditionType.RUNNING, new TrainingState.Reason("PodRunning", "Pod p is running")),
        null,
        null,
        "2026-01-01T09:59:00Z",
        null,
        false,
        null);
  }

  private static TrainingState pending() {
    return new TrainingState(Phase.PENDING, Map.of(), null, null, null, null, false, null);
  }

  private static ConceptErasure erasure(ConceptErasureStatus status) {
    ConceptErasure e = Samples.nudity("ns", "e");
    e.getMetadata().setGeneration(3L);
    e.setStatus(status);
    return e;
  }

  @Test
  void lifecycleConditionsAreAlwaysThereAndKeepTheirTransitionTime() {
    ConceptErasureStatus first =
        ConceptErasureStatusAggregator.next(erasure(null), pending(), "e-erasure", T0);
    assertThat(first.getConditions())
        .extracting(StatusCondition::getType)
        .containsExactly("Running", "Complete", "Failed", "Suspended");
    assertThat(first.getConditions())
        .allSatisfy(
            c -> {
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getLastTransitionTime()).isEqualTo(T0.toString());
              assertThat(c.getObservedGeneration()).isEqualTo(3L);
            });
    ConceptErasureStatus second =
        ConceptErasureStatusAggregator.next(erasure(first), running(), "e-erasure", T1);
    StatusCondition runningCondition = second.getConditions().get(0);
    assertThat(runningCondition.getStatus()).isEqualTo("True");
    assertThat(runningCondition.getLastTransitionTime()).isEqualTo(T1.toString());
    assertThat(second.getConditions().get(1).getLastTransitionTime())
        .as("unchanged Complete=False")
        .isEqualTo(T0.toString());
    assertThat(second.getStartTime()).isEqualTo("2026-01-01T09:59:00Z");
    assertThat(second.getObservedGeneration()).isEqualTo(3L);
  }

  @Test
  void nothingToPatchWhenOnlyTheTrainersProgressDiffers() {
    ConceptErasureStatus current =
        ConceptErasureStatusAggregator.next(erasure(null), running(), "e-erasure", T0);
    Progress progress = new Progress();
    progress.setPercent(40);
    current.setProgress(progress);
    ConceptErasureStatus next =
        ConceptErasureStatusAggregator.next(erasure(current), running(), "e-erasure", T1);
    assertThat(next.getProgress()).isNull();
    assertThat(ConceptErasureStatusAggregator.differs(current, next)).isFalse();
    assertThat(ConceptErasureStatusAggregator.differs(null, next)).isTrue();
    assertThat(ConceptErasureStatusAggregator.transitions(current, next)).isEmpty();
  }

  @Test
  void transitionsBecomeEventsOnce() {
    ConceptErasureStatus created =
        ConceptErasureStatusAggregator.next(erasure(null), pending(), "e-erasure", T0);
    assertThat(ConceptErasureStatusAggregator.transitions(null, created))
        .extracting(ConceptErasureStatusAggregator.Transition::reason)
        .containsExactly(EventReason.JobCreated);
    ConceptErasureStatus run =
        ConceptErasureStatusAggregator.next(erasure(created), running(), "e-erasure", T1);
    assertThat(ConceptErasureStatusAggregator.transitions(created, run))
        .extracting(ConceptErasureStatusAggregator.Transition::reason)
        .containsExactly(EventReason.Running);
    ErasureResult result = new ErasureResult();
    result.setOutputUri("s3://o/e");
    TrainingState succeeded =
        new TrainingState(
            Phase.SUCCEEDED,
            Map.of(ConditionType.COMPLETE, new TrainingState.Reason("Succeeded", "")),
            null,
            result,
            null,
            T1.toString(),
            false,
            null);
    ConceptErasureStatus done =
        ConceptErasureStatusAggregator.next(erasure(run), succeeded, "e-erasure", T1);
    assertThat(ConceptErasureStatusAggregator.transitions(run, done))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.reason()).isEqualTo(EventReason.Succeeded);
              assertThat(t.message()).contains("s3://o/e");
            });
  }

  @Test
  void stalledReasonsMapToTypedEventReasons() {
    TrainingState stalled =
        new TrainingState(
            Phase.PENDING,
            Map.of(ConditionType.STALLED, new TrainingState.Reason("ImagePullBackOff", "Back-off")),
            null,
            null,
            null,
            null,
            false,
            null);
    ConceptErasureStatus before =
        ConceptErasureStatusAggregator.next(erasure(null), pending(), "e-erasure", T0);
    ConceptErasureStatus after =
        ConceptErasureStatusAggregator.next(erasure(before), stalled, "e-erasure", T1);
    assertThat(ConceptErasureStatusAggregator.transitions(before, after))
        .extracting(ConceptErasureStatusAggregator.Transition::reason)
        .containsExactly(EventReason.ImagePullBackOff);
    ConceptErasureStatus again =
        ConceptErasureStatusAggregator.next(
            erasure(after), stalled, "e-erasure", T1.plusSeconds(60));
    assertThat(ConceptErasureStatusAggregator.transitions(after, again)).isEmpty();
  }
}
