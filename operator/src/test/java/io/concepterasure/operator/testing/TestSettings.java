package io.concepterasure.operator.testing;

import io.concepterasure.operator.config.OperatorSettings;
import java.time.Duration;
import java.util.Optional;

/** Operator settings for tests, with short time limits. */
public record TestSettings(
    String trainerImage,
    Duration imagePullFailureTimeout,
    Duration crashLoopFailureTimeout,
    Duration unschedulableReportAfter,
    Duration containerCreatingReportAfter,
    Duration podStartFailureTimeout,
    String defaultCpu,
    String defaultMemory,
    String defaultScratch,
    Optional<String> trainerServiceAccountAnnotations,
    Optional<String> trainerPodLabels)
    implements OperatorSettings {

  @Override
  public String leaseName() {
    return "concept-erasure-operator-lease";
  }

  public static TestSettings defaults() {
    return new TestSettings(
        "registry.example/concepterasure/trainer:test",
        Duration.ofMinutes(10),
        Duration.ofMinutes(10),
        Duration.ofMinutes(2),
        Duration.ofMinutes(2),
        Duration.ofMinutes(15),
        "4",
        "32Gi",
        "50Gi",
        Optional.empty(),
        Optional.empty());
  }

  public TestSettings withImagePullFailureTimeout(Duration d) {
    return new TestSettings(
        trainerImage,
        d,
        crashLoopFailureTimeout,
        unschedulableReportAfter,
        containerCreatingReportAfter,
        podStartFailureTimeout,
        defaultCpu,
        defaultMemory,
        defaultScratch,
        trainerServiceAccountAnnotations,
        trainerPodLabels);
  }

  public TestSettings withUnschedulableReportAfter(Duration d) {
    return new TestSettings(
        trainerImage,
        imagePullFailureTimeout,
        crashLoopFailureTimeout,
        d,
        containerCreatingReportAfter,
        podStartFailureTimeout,
        defaultCpu,
        defaultMemory,
        defaultScratch,
        trainerServiceAccountAnnotations,
        trainerPodLabels);
  }

  public TestSettings withPodStart(Duration reportAfter, Duration failureTimeout) {
    return new TestSettings(
        trainerImage,
        imagePullFailureTimeout,
        crashLoopFailureTimeout,
        unschedulableReportAfter,
        reportAfter,
        failureTimeout,
        defaultCpu,
        defaultMemory,
        defaultScratch,
        trainerServiceAccountAnnotations,
        trainerPodLabels);
  }

  public TestSettings withWorkloadIdentity(String serviceAccountAnnotations, String podLabels) {
    return new TestSettings(
        trainerImage,
        imagePullFailureTimeout,
        crashLoopFailureTimeout,
        unschedulableReportAfter,
        containerCreatingReportAfter,
        podStartFailureTimeout,
        defaultCpu,
        defaultMemory,
        defaultScratch,
        Optional.ofNullable(serviceAccountAnnotations),
        Optional.ofNullable(podLabels));
  }

  @Override
  public String trainerGpuImage() {
    return "registry.example/concepterasure/trainer:test-cuda";
  }
}
