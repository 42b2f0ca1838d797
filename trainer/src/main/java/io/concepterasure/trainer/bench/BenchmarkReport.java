package io.concepterasure.trainer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The erasure benchmark's tables (Markdown), from {@code baseline.json} and {@code runs/*.json}.
 */
public final class BenchmarkReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode baseline;
  private final List<JsonNode> runs;

  private BenchmarkReport(JsonNode baseline, List<JsonNode> runs) {
    this.baseline = baseline;
    this.runs = runs;
  }

  public static BenchmarkReport read(Path out) throws IOException {
    JsonNode baseline = JSON.readTree(out.resolve("baseline.json").toFile());
    List<JsonNode> runs = new ArrayList<>();
    Path folder = out.resolve("runs");
    if (Files.isDirectory(folder)) {
      try (Stream<Path> files = Files.list(folder)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
          runs.add(JSON.readTree(f.toFile()));
        }
      }
    }
    return new BenchmarkReport(baseline, runs);
  }

  /** A run must leave at most this share of the erased concept before its preservation counts. */
  static final double ERASURE_REQUIRED = 0.10;

  /**
   * Sweep score. A run that erases (still erased ≤ {@link #ERASURE_REQUIRED}) scores unrelated
   * accuracy minus disintegrated, in [-1, 1]; one that does not scores below every run that does,
   * less erased being better, so that doing nothing never wins on preservation.
   */
  static double score(JsonNode run) {
    double still = run.get("erasedShare").asDouble();
    if (still > ERASURE_REQUIRED) {
      return -2 + (1 - still);
    }
    return run.get("unrelatedAccuracy").asDouble() - run.get("disintegrated").asDouble();
  }

  /** A higher score; at an equal score, less drift (higher unrelated SSIM). */
  static boolean better(JsonNode run, JsonNode than) {
    double a = score(run);
    double b = score(than);
    if (Math.abs(a - b) > 1e-9) {
      return a > b;
    }
    return run.get("unrelatedSsim").asDouble() > than.get("unrelatedSsim").asDouble();
  }

  /** The best validation run of a variant on a scenario, null if none ran. */
  public JsonNode bestValidationRun(String scenario, String variant, long seed) {
    JsonNode top = null;
    for (JsonNode run : runs(scenario, variant, null, seed, ErasureBenchmark.Phase.VALIDATION)) {
      if (top == null || better(run, top)) {
        top = run;
      }
    }
    return top;
  }

  /** The learning rates the validation runs of a variant on a scenario tried, ascending. */
  public List<Double> triedLearningRates(String scenario, String variant, long seed) {
    return runs(scenario, variant, null, seed, ErasureBenchmark.Phase.VALIDATION).stream()
        .map(r -> r.get("spec").get("learningRate").asDouble())
        .distinct()
        .sorted()
        .toList();
  }

  /**
   * Per variant, the validation runs' learning rate with the best score on {@code scenario} and
   * {@code seed}; absent where none ran.
   */
  public Map<String, Double> bestLearningRates(String scenario, long seed) {
    Map<String, Double> best = new LinkedHashMap<>();
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      JsonNode top = bestValidationRun(scenario, v.label(), seed);
      if (top != null) {
        best.put(v.label(), top.get("spec").get("learningRate").asDouble());
      }
    }
    return best;
  }

  private List<JsonNode> runs(
      String scenario,
      String variant,
      Double learningRate,
      Long seed,
      ErasureBenchmark.Phase phase) {
    return runs.stream()
        .filter(
            r -> {
              JsonNode s = r.get("spec");
              return s.get("scenario").asText().equals(scenario)
                  && s.get("variant").asText().equals(variant)
                  && s.get("phase").asText().equals(phase.name())
                  && (learningRate == null
                      || Math.abs(s.get("learningRate").asDouble() - learningRate)
                          < learningRate * 1e-6)
                  && (seed == null || s.get("seed").asLong() == seed);
            })
        .toList();
  }

  /**
   * @param learningRates per scenario, per variant, the rate chosen by the sweep
   */
  public String markdown(Map<String, Map<String, Double>> learningRates, long sweepSeed) {
    StringBuilder md = new StringBuilder();
    appendOriginal(md);
    for (ErasureBenchmark.Scenario scenario : ErasureBenchmark.SCENARIOS) {
      Map<String, Double> rates = learningRates.get(scenario.name());
      if (rates != null) {
        appendScenario(md, scenario, rates);
      }
    }
    for (ErasureBenchmark.Scenario scenario : ErasureBenchmark.SCENARIOS) {
      if (learningRates.containsKey(scenario.name())) {
        appendSweep(md, scenario, sweepSeed);
      }
    }
    return md.toString();
  }

  /** How well the original draws each shape and colour, as the classifier sees it. */
  private void appendOriginal(StringBuilder md) {
    md.append("### The toy model (original), ")
        .append(baseline.get("samplesPerPrompt").asInt())
        .append(" samples per prompt\n\n| | recognised |\n|---|---|\n");
    baseline
        .get("shapeRecognised")
        .fields()
        .forEachRemaining(
            e ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| shape %s | %.1f%% |%n",
                        e.getKey(),
                        100 * e.getValue().asDouble())));
    baseline
        .get("colourRecognised")
        .fields()
        .forEachRemaining(
            e ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| colour %s | %.1f%% |%n",
                        e.getKey(),
                        100 * e.getValue().asDouble())));
  }

  /** One scenario's table: the original, then each method at its chosen learning rate. */
  private void appendScenario(
      StringBuilder md, ErasureBenchmark.Scenario scenario, Map<String, Double> learningRates) {
    JsonNode base = baseline.get("scenarios").get(scenario.name());
    boolean alt = scenario.alternative() != null;
    md.append("\n### ")
        .append(scenario.name())
        .append(": erase \"")
        .append(scenario.erased().word())
        .append('"')
        .append(alt ? " → \"" + scenario.alternative().word() + "\"" : " (no alternative)")
        .append("\n\n");
    md.append("Erased prompts: ")
        .append(String.join(", ", scenario.erasedPrompts()))
        .append(". Unrelated prompts: ")
        .append(String.join(", ", scenario.testPrompts()))
        .append(" (the sweep's: ")
        .append(String.join(", ", scenario.validationPrompts()))
        .append("). Retain pool: ")
        .append(String.join(", ", scenario.retainPool()))
        .append(".\n");
    if (alt) {
      md.append(
          String.format(
              Locale.ROOT,
              "The original draws the alternative from its own prompts %.1f%% of the time"
                  + " (the ceiling) and a %s %.1f%% of the time.%n",
              100 * base.get("alternativeCeiling").asDouble(),
              scenario.erased().word(),
              100 * base.get("alternativeConfusedWithErased").asDouble()));
    }
    md.append("\n| method (lr) | seeds | still ").append(scenario.erased().word());
    if (alt) {
      md.append(" | became ").append(scenario.alternative().word());
    }
    md.append(
        " | disintegrated | unrelated accuracy | unrelated shape | unrelated colour | unrelated SSIM"
            + " | unrelated latent MSE | unrelated FD | s / iteration | peak RSS MiB"
            + " | erasure plateau (iteration) |\n|---|---|---|");
    if (alt) {
      md.append("---|");
    }
    md.append("---|---|---|---|---|---|---|---|---|---|\n");
    md.append("| original | – | ").append(pct(base.get("erasedShare").asDouble()));
    if (alt) {
      md.append(" | –");
    }
    // The similarity columns compare a model with the original: nothing to measure here.
    md.append(" | ")
        .append(pct(base.get("disintegrated").asDouble()))
        .append(" | ")
        .append(pct(base.get("unrelatedAccuracy").asDouble()))
        .append(" | – | – | – | – | – | – | – | – |\n");
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      Double lr = learningRates.get(v.label());
      if (lr == null) {
        continue;
      }
      List<JsonNode> rs = runs(scenario.name(), v.label(), lr, null, ErasureBenchmark.Phase.TEST);
      if (rs.isEmpty()) {
        continue;
      }
      md.append(
          String.format(
              Locale.ROOT,
              "| %s (%.0e) | %d | %s",
              v.label(),
              lr,
              rs.size(),
              pctStats(rs, "erasedShare")));
      if (alt) {
        md.append(" | ").append(pctStats(rs, "alternativeShare"));
      }
      md.append(" | ")
          .append(pctStats(rs, "disintegrated"))
          .append(" | ")
          .append(pctStats(rs, "unrelatedAccuracy"))
          .append(" | ")
          .append(pctStats(rs, "unrelatedShapeAccuracy"))
          .append(" | ")
          .append(pctStats(rs, "unrelatedColourAccuracy"))
          .append(" | ")
          .append(stats(rs, "unrelatedSsim", "%.3f"))
          .append(" | ")
          .append(stats(rs, "unrelatedLatentMse", "%.4f"))
          .append(" | ")
          .append(stats(rs, "unrelatedFrechet", "%.3f"))
          .append(" | ")
          .append(stats(rs, "secondsPerIteration", "%.3f"))
          .append(" | ")
          .append(stats(rs, "peakResidentMiB", "%.0f"))
          .append(" | ")
          .append(stats(rs, "plateauIteration", "%.0f"))
          .append(" |\n");
    }
  }

  /** Every validation run of a scenario's learning-rate sweep with its score. */
  private void appendSweep(StringBuilder md, ErasureBenchmark.Scenario scenario, long sweepSeed) {
    md.append("\n### Learning-rate sweep (scenario ")
        .append(scenario.name())
        .append(", validation: training seed ")
        .append(sweepSeed)
        .append(", its own sample seeds and unrelated prompts)\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "Score = unrelated accuracy − disintegrated for a run that leaves at most %.0f%%"
                    + " of the erased concept, else −2 + (1 − still erased), below every run that"
                    + " erases (at equal score, the higher unrelated SSIM); the best per method is"
                    + " used above. A best rate at the end of the grid that could not be widened is"
                    + " marked *edge*.%n%n",
                100 * ERASURE_REQUIRED))
        .append(
            "| method | lr | still erased | disintegrated | unrelated accuracy | unrelated SSIM | score | |\n"
                + "|---|---|---|---|---|---|---|---|\n");
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      List<Double> tried = triedLearningRates(scenario.name(), v.label(), sweepSeed);
      JsonNode best = bestValidationRun(scenario.name(), v.label(), sweepSeed);
      for (double lr : tried) {
        for (JsonNode r :
            runs(scenario.name(), v.label(), lr, sweepSeed, ErasureBenchmark.Phase.VALIDATION)) {
          boolean chosen = r == best;
          boolean edge =
              chosen
                  && tried.size() > 1
                  && (lr == tried.get(0) || lr == tried.get(tried.size() - 1));
          md.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %.0e | %s | %s | %s | %.3f | %.3f | %s |%n",
                  v.label(),
                  lr,
                  pct(r.get("erasedShare").asDouble()),
                  pct(r.get("disintegrated").asDouble()),
                  pct(r.get("unrelatedAccuracy").asDouble()),
                  r.get("unrelatedSsim").asDouble(),
                  score(r),
                  chosen ? (edge ? "chosen, *edge*" : "chosen") : ""));
        }
      }
    }
  }

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * share);
  }

  private static String pctStats(List<JsonNode> runs, String field) {
    double[] ms = meanSd(runs, field, 100);
    return runs.size() > 1
        ? String.format(Locale.ROOT, "%.1f ± %.1f%%", ms[0], ms[1])
        : String.format(Locale.ROOT, "%.1f%%", ms[0]);
  }

  private static String stats(List<JsonNode> runs, String field, String format) {
    double[] ms = meanSd(runs, field, 1);
    if (Double.isNaN(ms[0])) {
      return "–";
    }
    return runs.size() > 1
        ? String.format(Locale.ROOT, format + " ± " + format, ms[0], ms[1])
        : String.format(Locale.ROOT, format, ms[0]);
  }

  /** Mean and sample standard deviation over the runs that have the field. */
  static double[] meanSd(List<JsonNode> runs, String field, double scale) {
    List<Double> values =
        runs.stream()
            .map(r -> r.get(field))
            .filter(n -> n != null && n.isNumber())
            .map(n -> n.asDouble() * scale)
            .toList();
    if (values.isEmpty()) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double mean = values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double sd =
        values.size() < 2
            ? 0
            : Math.sqrt(
                values.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum()
                    / (values.size() - 1));
    return new double[] {mean, sd};
  }
}
