package io.concepterasure.trainer.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * tools/gpu/smoke.sh in its CPU mode (CI has no GPU): the script a GPU machine runs (cuda against
 * cpu) cannot rot unnoticed. Two CPU runs of the same request must give the same weights.
 */
class GpuSmokeScriptIT {
  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));

  @Test
  void theCpuModeRunsBothErasuresAndTheirWeightsAgree() throws Exception {
    Process p =
        new ProcessBuilder(
                REPO.resolve("tools/gpu/smoke.sh").toString(), "--cpu-only", "--iterations", "3")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .containsPattern("smoke: cpu +3 iterations, [0-9.]+ it/s")
        .containsPattern("max \\|a-b\\| 0[.0]* \\(bound");
  }
}
