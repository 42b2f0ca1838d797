package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintWriter out =
      new PrintWriter(new OutputStreamWriter(bytes, StandardCharsets.UTF_8), true);
  private final AtomicLong clock = new AtomicLong();

  private static Map<String, Double> losses(double loss) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", loss);
    m.put("guide", loss / 2);
    return m;
  }

  @Test
  void plainLinesEveryFewPercentWithRateAndTimeLeft() {
    TrainingProgress progress = new TrainingProgress(out, false, 0, 100, clock::get);
    for (int i = 0; i < 100; i++) {
      clock.addAndGet(500_000_000L); // 2 it/s
      progress.update(i, losses(0.25));
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(51); // the first iteration, then every 2nd
    assertThat(lines[0])
        .isEqualTo(
            "iteration 1/100 loss 0.250000 guide 0.125000 2.00 it/s elapsed 00:01 left 00:50");
    assertThat(lines[50])
        .isEqualTo(
            "iteration 100/100 loss 0.250000 guide 0.125000 2.00 it/s elapsed 00:50 left 00:00");
    assertThat(bytes.toString(StandardCharsets.UTF_8)).doesNotContain("\r");
  }

  @Test
  void aResumedRunCountsOnlyItsOwnIterations() {
    TrainingProgress progress = new TrainingProgress(out, false, 90, 100, clock::get);
    clock.addAndGet(1_000_000_000L);
    progress.update(90, losses(1));
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .startsWith(
            "iteration 91/100 loss 1.00000 guide 0.500000 1.00 it/s elapsed 00:01 left 00:09");
  }

  @Test
  void aTerminalGetsABarRedrawnInPlace() {
    TrainingProgress progress = new TrainingProgress(out, true, 0, 4, clock::get);
    for (int i = 0; i < 4; i++) {
      clock.addAndGet(1_000_000_000L);
      progress.update(i, losses(0.5));
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).startsWith("\r[######..................] iteration 1/4");
    assertThat(text).contains("\r[########################] iteration 4/4").endsWith("\n");
    assertThat(text.split("\n")).hasSize(1);
  }

  @Test
  void clockFormat() {
    assertThat(TrainingProgress.clock(59.6)).isEqualTo("01:00");
    assertThat(TrainingProgress.clock(3725)).isEqualTo("1:02:05");
  }
}
