package io.concepterasure.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.StatusCondition;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TrainingStateMapperTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private final TrainingStateMapper mapper =
      new TrainingStateMapper(
          TestSettings.defaults()
              .withImagePullFailureTimeout(Duration.ofMinutes(10))
              .withUnschedulableReportAfter(Duration.ofMinutes(2)));

  private static ConceptErasure erasure() {
    return Samples.nudity("ns", "e");
  }

  private static Job job(String conditionType, String reason, Boolean suspend) {
    JobBuilder b =
        new JobBuilder()
            .withNewMetadata()
            .withName("e-erasure")
            .endMetadata()
            .withNewSpec()
            .withSuspend(suspend)
            .endSpec()
            .withNewStatus()
            .withStartTime("2026-01-01T11:00:00Z")
            .endStatus();
    if (conditionType != null) {
      b.editStatus()
          .addNewCondition()
          .withType(conditionType)
          .withStatus("True")
          .withReason(reason)
          .withMessage(reason + " message")
          .withLastTransitionTime("2026-01-01T11:59:00Z")
          .endCondition()
          .withCompletionTime("Complete".equals(conditionType) ? "2026-01-01T11:59:00Z" : null)
          .endStatus();
    }
    return b.build();
  }

  private static Pod pod(String phase, ContainerStateBuilder state) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName("e-erasure-abc")
            .endMetadata()
            .withNewSpec()
            .withNodeName("gpu-node-1")
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .withStartTime("2026-01-01T11:01:00Z")
            .endStatus();
    if (state != null) {
      b.editStatus()
          .withContainerStatuses(
              new ContainerStatusBuilder().withName("trainer").withState(state.build()).build())
          .endStatus();
    }
    return b.build();
  }

  private TrainingState map(ConceptErasure e, Job job, Pod pod) {
    return mapper.map(e, List.of(), Optional.ofNullable(job), Optional.ofNullable(pod), NOW);
  }

  @Test
  void invalidSpecFailsWithoutLookingAtAnything() {
    TrainingState s =
        mapper.map(erasure(), List.of("spec.x is bad"), Optional.empty(), Optional.empty(), NOW);
    assertThat(s.phase()).isEqualTo(Phase.FAILED);
    assertThat(s.failure().getReason()).isEqualTo("InvalidSpec");
    assertThat(s.failure().getMessage()).isEqualTo("spec.x is bad");
  }

  @Test
  void noJobYetIsPendingButAVanishedJobIsAFailure() {
    assertThat(map(erasure(), null, null).phase()).isEqualTo(Phase.PENDING);
    ConceptErasure e = erasure();
    e.setStatus(new ConceptErasureStatus());
    e.getStatus().setJobName("e-erasure");
    TrainingState s = map(e, null, null);
    assertThat(s.phase()).isEqualTo(Phase.FAILED);
    assertThat(s.failure().getReason()).isEqualTo("JobDeleted");
  }

  @Test
  void runningPod() {
    TrainingState s =
        map(
            erasure(),
            job(null, null, false),
            pod("Running", new ContainerStateBuilder().withNewRunning().endRunning()));
    assertThat(s.phase()).isEqualTo(Phase.RUNNING);
    assertThat(s.startTime()).isEqualTo("2026-01-01T11:01:00Z");
    assertThat(s.trueConditions().get(ConditionType.RUNNING).message()).contains("gpu-node-1");
  }

  @Test
  void succeededTakesTheResultFromTheTerminationMessage() {
    TrainingState s =
        map(
            erasure(),
            job("Complete", "CompletionsReached", false),
            pod(
                "Succeeded",
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(0)
                    .withMessage(
                        "{\"outputUri\":\"s3://o/e\",\"erasureJsonSha256\":\"ff\",\"metrics\":{\"loss\":0.5,\"note\":\"x\"}}")
                    .endTerminated()));
    assertThat(s.phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(s.result().getOutputUri()).isEqualTo("s3://o/e");
    assertThat(s.result().getErasureJsonSha256()).isEqualTo("ff");
    assertThat(s.result().getMetrics()).containsOnlyKeys("loss");
    assertThat(s.completionTime()).isEqualTo("2026-01-01T11:59:00Z");
  }

  /** The trainer's TerminationMessageTest checks its output against the same example. */
  @Test
  void readsTheTerminationMessageDocumentedInTheApiReference() throws Exception {
    String doc = Files.readString(Path.of(System.getProperty("repo.root", ".."), "docs", "api.md"));
    Matcher m =
        Pattern.compile(
                "<!-- termination-message-example -->\\s*```json\\s*(\\{.*?})\\s*```",
                Pattern.DOTALL)
            .matcher(doc);
    assertThat(m.find()).as("the termination message example in docs/api.md").isTrue();
    TrainingState s =
        map(
            erasure(),
            job("Complete", "CompletionsReached", false),
            pod(
                "Succeeded",
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(0)
                    .withMessage(m.group(1))
                    .endTerminated()));
    assertThat(s.result().getOutputUri()).isEqualTo("s3://erased-models/sd-v1-4-no-van-gogh");
    assertThat(s.result().getErasureJsonSha256()).hasSize(64);
    assertThat(s.result().getMetrics())
        .containsEntry("finalLoss", 0.0042)
        .containsEntry("finalLoss.erase", 0.0031)
        .containsEntry("iterations", 400.0)
        .containsEntry("trainingSeconds", 3512.4);
  }

  @Test
  void succeededWithoutAReadableMessageStillSaysWhereTheModelIs() {
    TrainingState s =
        map(
            erasure(),
            job("Complete", "CompletionsReached", false),
            pod(
                "Succeeded",
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(0)
                    .withMessage("not json")
                    .endTerminated()));
    assertThat(s.result().getOutputUri()).isEqualTo("s3://erased-models/e");
    assertThat(s.result().getErasureJsonSha256()).isNull();
  }

  @Test
  void failures() {
    TrainingState oom =
        map(
            erasure(),
            job("Failed", "BackoffLimitExceeded", false),
            pod(
                "Failed",
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(137)
                    .withReason("OOMKilled")
                    .endTerminated()));
    assertThat(oom.failure().getReason()).isEqualTo("OOMKilled");
    assertThat(oom.failure().getExitCode()).isEqualTo(137);

    TrainingState invalid =
        map(
            erasure(),
            job("Failed", "PodFailurePolicy", false),
            pod(
                "Failed",
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(2)
                    .withMessage("no such model")
                    .endTerminated()));
    assertThat(invalid.failure().getReason()).isEqualTo("InvalidInput");
    assertThat(invalid.failure().getMessage()).isEqualTo("no such model");

    TrainingState deadline = map(erasure(), job("Failed", "DeadlineExceeded", false), null);
    assertThat(deadline.failure().getReason()).isEqualTo("DeadlineExceeded");
    assertThat(deadline.failure().getExitCode()).isNull();

    TrainingState transient3 =
        map(
            erasure(),
            job("Failed", "BackoffLimitExceeded", false),
            pod(
                "Failed",
                new ContainerStateBuilder().withNewTerminated().withExitCode(3).endTerminated()));
    assertThat(transient3.failure().getReason()).isEqualTo("BackoffLimitExceeded");
    assertThat(transient3.failure().getExitCode()).isEqualTo(3);
  }

  @Test
  void suspendedAndQueued() {
    ConceptErasure suspended = erasure();
    suspended.getSpec().setSuspend(true);
    assertThat(map(suspended, job(null, null, true), null).phase()).isEqualTo(Phase.SUSPENDED);

    ConceptErasure queued = erasure();
    queued.getSpec().setQueueName("q");
    TrainingState s = map(queued, job(null, null, true), null);
    assertThat(s.phase()).isEqualTo(Phase.PENDING);
    assertThat(s.trueConditions()).containsKey(ConditionType.QUEUED);
  }

  @Test
  void imagePullBackOffIsReportedAtOnceAndFailsAfterTheLimitCountedFromTheCondition() {
    Pod waiting =
        pod(
            "Pending",
            new ContainerStateBuilder()
                .withNewWaiting()
                .withReason("ImagePullBackOff")
                .withMessage("Back-off pulling image")
                .endWaiting());
    TrainingState first = map(erasure(), job(null, null, false), waiting);
    assertThat(first.phase()).isEqualTo(Phase.PENDING);
    assertThat(first.trueConditions().get(ConditionType.STALLED).reason())
        .isEqualTo("ImagePullBackOff");
    assertThat(first.recheckAfter()).isEqualTo(Duration.ofMinutes(10));

    ConceptErasure since9 =
        withCondition("Stalled", "ImagePullBackOff", NOW.minus(Duration.ofMinutes(9)));
    assertThat(map(since9, job(null, null, false), waiting).recheckAfter())
        .isEqualTo(Duration.ofMinutes(1));

    ConceptErasure since11 =
        withCondition("Stalled", "ImagePullBackOff", NOW.minus(Duration.ofMinutes(11)));
    TrainingState failed = map(since11, job(null, null, false), waiting);
    assertThat(failed.phase()).isEqualTo(Phase.FAILED);
    assertThat(failed.failure().getReason()).isEqualTo("ImagePullBackOff");
    assertThat(failed.stopJob()).isTrue();
  }

  @Test
  void crashLoopAndContainerConfigErrorsStallToo() {
    assertThat(
            map(
                    erasure(),
                    job(null, null, false),
                    pod(
                        "Pending",
                        new ContainerStateBuilder()
                            .withNewWaiting()
                            .withReason("CrashLoopBackOff")
                            .endWaiting()))
                .trueConditions()
                .get(ConditionType.STALLED)
                .reason())
        .isEqualTo("CrashLoopBackOff");
    assertThat(
            map(
                    erasure(),
                    job(null, null, false),
                    pod(
                        "Pending",
                        new ContainerStateBuilder()
                            .withNewWaiting()
                            .withReason("CreateContainerConfigError")
                            .withMessage("secret \"s3\" not found")
                            .endWaiting()))
                .trueConditions()
                .get(ConditionType.STALLED)
                .reason())
        .isEqualTo("ContainerConfigError");
  }

  @Test
  void unschedulableIsReportedOnlyAfterTheConfiguredTime() {
    Pod recent = unschedulable(NOW.minus(Duration.ofSeconds(30)));
    TrainingState early = map(erasure(), job(null, null, false), recent);
    assertThat(early.trueConditions()).doesNotContainKey(ConditionType.UNSCHEDULABLE);
    assertThat(early.recheckAfter()).isEqualTo(Duration.ofSeconds(90));

    TrainingState late =
        map(erasure(), job(null, null, false), unschedulable(NOW.minus(Duration.ofMinutes(3))));
    assertThat(late.phase()).isEqualTo(Phase.PENDING);
    assertThat(late.trueConditions().get(ConditionType.UNSCHEDULABLE).message())
        .contains("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.");
  }

  private static Pod unschedulable(Instant since) {
    Pod p = pod("Pending", null);
    p.getStatus()
        .setConditions(
            List.of(
                new PodConditionBuilder()
                    .withType("PodScheduled")
                    .withStatus("False")
                    .withReason("Unschedulable")
                    .withMessage("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.")
                    .withLastTransitionTime(since.toString())
                    .build()));
    return p;
  }

  private static ConceptErasure withCondition(String type, String reason, Instant since) {
    ConceptErasure e = erasure();
    e.setStatus(new ConceptErasureStatus());
    StatusCondition c = new StatusCondition();
    c.setType(type);
    c.setStatus("True");
    c.setReason(reason);
    c.setLastTransitionTime(since.toString());
    e.getStatus().setConditions(List.of(c));
    return e;
  }
}
