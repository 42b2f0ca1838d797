package io.concepterasure.trainer.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Progress of a training loop: on a terminal a bar redrawn in place (iteration, loss, it/s, time
 * left); otherwise (a pod's log) a plain line every few percent, so logs stay readable.
 */
public final class TrainingProgress {
  private static final int BAR_WIDTH = 24;
  private final PrintWriter out;
  private final boolean terminal;
  private final int total;
  private final int lineEvery;
  private final LongSupplier nanoClock;
  private final String unit;
  private final long startNanos;
  private final int firstIteration;
  private long lastDrawNanos;

  /**
   * @param firstIteration where this run starts (after a resume), so it/s counts only this run's
   *     work
   */
  public TrainingProgress(
      PrintWriter out, boolean terminal, int firstIteration, int total, LongSupplier nanoClock) {
    this(out, terminal, firstIteration, total, nanoClock, "iteration");
  }

  /**
   * @param unit what is counted, e.g. "iteration" or "vae step"
   */
  public TrainingProgress(
      PrintWriter out,
      boolean terminal,
      int firstIteration,
      int total,
      LongSupplier nanoClock,
      String unit) {
    this.unit = unit;
    this.out = out;
    this.terminal = terminal;
    this.total = total;
    this.firstIteration = firstIteration;
    this.lineEvery = Math.max(1, total / 50);
    this.nanoClock = nanoClock;
    this.startNanos = nanoClock.getAsLong();
    this.lastDrawNanos = startNanos - 1_000_000_000L;
  }

  /** For the standard error stream, a bar when it is a terminal. */
  public static TrainingProgress onStderr(int firstIteration, int total) {
    return new TrainingProgress(
        new PrintWriter(System.err, true),
        System.console() != null,
        firstIteration,
        total,
        System::nanoTime);
  }

  /** Reports that {@code iteration} (0-based) finished with these losses. */
  public void update(int iteration, Map<String, Double> losses) {
    int done = iteration + 1;
    long now = nanoClock.getAsLong();
    boolean last = done == total;
    if (terminal) {
      // Redrawing more than ~10 times a second only costs time.
      if (!last && now - lastDrawNanos < 100_000_000L) {
        return;
      }
      lastDrawNanos = now;
      int filled = (int) ((long) BAR_WIDTH * done / total);
      String bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
      out.print("\r[" + bar + "] " + describe(done, losses, now) + "\u001b[K");
      if (last) {
        out.println();
      }
      out.flush();
    } else if (done % lineEvery == 0 || last || iteration == firstIteration) {
      out.println(describe(done, losses, now));
      out.flush();
    }
  }

  String describe(int done, Map<String, Double> losses, long now) {
    double seconds = (now - startNanos) / 1e9;
    int ranHere = done - firstIteration;
    double rate = seconds > 0 ? ranHere / seconds : 0;
    StringBuilder line =
        new StringBuilder(String.format(Locale.ROOT, "%s %d/%d", unit, done, total));
    losses.forEach(
        (name, value) -> line.append(String.format(Locale.ROOT, " %s %.6g", name, value)));
    line.append(
        String.format(
            Locale.ROOT,
            " %.2f it/s elapsed %s left %s",
            rate,
            clock(seconds),
            rate > 0 ? clock((total - done) / rate) : "?"));
    return line.toString();
  }

  static String clock(double seconds) {
    Duration d = Duration.ofSeconds(Math.round(seconds));
    return d.toHours() > 0
        ? String.format(
            Locale.ROOT, "%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart())
        : String.format(Locale.ROOT, "%02d:%02d", d.toMinutesPart(), d.toSecondsPart());
  }
}
