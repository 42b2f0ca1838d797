package io.concepterasure.operator.testing;

import io.concepterasure.operator.config.OperatorSettings;
import java.time.Duration;

/** Operator settings for tests, with short time limits. */
public record TestSettings(
    String trainerImage,
    Duration imagePullFailureTimeout,
    Duration crashLoopFailureTimeout,
    Duration unschedulableReportAfter,
    String defaultCpu,
    String defaultMemory)
    implements OperatorSettings {

  public static TestSettings defaults() {
    return new TestSettings(
        "registry.example/concepterasure/trainer:test",
        Duration.ofMinutes(10),
        Duration.ofMinutes(10),
        Duration.ofMinutes(2),
        "4",
        "32Gi");
  }

  public TestSettings withImagePullFailureTimeout(Duration d) {
    return new TestSettings(
        trainerImage,
        d,
        crashLoopFailureTimeout,
        unschedulableReportAfter,
        defaultCpu,
        defaultMemory);
  }

  public TestSettings withUnschedulableReportAfter(Duration d) {
    return new TestSettings(
        trainerImage,
        imagePullFailureTimeout,
        crashLoopFailureTimeout,
        d,
        defaultCpu,
        defaultMemory);
  }

  @Override
  public String trainerGpuImage() {
    return "registry.example/concepterasure/trainer:test-cuda";
  }
}
