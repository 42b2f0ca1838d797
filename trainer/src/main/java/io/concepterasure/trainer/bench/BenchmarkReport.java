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

  /** Sweep score: erased images that became something recognisable, plus unrelated accuracy. */
  static double score(JsonNode run) {
    return 1
        - run.get("erasedShare").asDouble()
        - run.get("disintegrated").asDouble()
        + run.get("unrelatedAccuracy").asDouble();
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

  /**
   * Per variant, the sweep's learning rate with the best score on {@code scenario} and {@code
   * seed}; null where none ran.
   */
  public Map<String, Double> bestLearningRates(String scenario, long seed) {
    Map<String, Double> best = new LinkedHashMap<>();
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      JsonNode top = null;
      for (JsonNode run : runs(scenario, v.label(), null, seed)) {
        if (top == null || better(run, top)) {
          top = run;
        }
      }
      if (top != null) {
        best.put(v.label(), top.get("spec").get("learningRate").asDouble());
      }
    }
    return best;
  }

  private List<JsonNode> runs(String scenario, String variant, Double learningRate, Long seed) {
    return runs.stream()
        .filter(
            r -> {
              JsonNode s = r.get("spec");
              return s.get("scenario").asText().equals(scenario)
                  && s.get("variant").asText().equals(variant)
                  && (learningRate == null
                      || Math.abs(s.get("learningRate").asDouble() - learningRate)
                          < learningRate * 1e-6)
                  && (seed == null || s.get("seed").asLong() == seed);
            })
        .toList();
  }

  public String markdown(Map<String, Double> learningRates, long sweepSeed) {
    StringBuilder md = new StringBuilder();
    appendOriginal(md);
    for (ErasureBenchmark.Scenario scenario : ErasureBenchmark.SCENARIOS) {
      appendScenario(md, scenario, learningRates);
    }
    appendSweep(md, sweepSeed);
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
        .append(String.join(", ", scenario.unrelatedPrompts()))
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
        " | disintegrated | unrelated accuracy | unrelated SSIM | unrelated latent MSE | unrelated FD"
            + " | s / iteration | peak RSS MiB | erasure plateau (iteration) |\n|---|---|---|");
    if (alt) {
      md.append("---|");
    }
    md.append("---|---|---|---|---|---|---|---|\n");
    md.append("| original | – | ").append(pct(base.get("erasedShare").asDouble()));
    if (alt) {
      md.append(" | –");
    }
    // The similarity columns compare a model with the original: nothing to measure here.
    md.append(" | ")
        .append(pct(base.get("disintegrated").asDouble()))
        .append(" | ")
        .append(pct(base.get("unrelatedAccuracy").asDouble()))
        .append(" | – | – | – | – | – | – |\n");
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      Double lr = learningRates.get(v.label());
      if (lr == null) {
        continue;
      }
      List<JsonNode> rs = runs(scenario.name(), v.label(), lr, null);
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

  /** Every run of the learning-rate sweep with its score. */
  private void appendSweep(StringBuilder md, long sweepSeed) {
    md.append("\n### Learning-rate sweep (scenario ")
        .append(ErasureBenchmark.SCENARIOS.get(0).name())
        .append(", seed ")
        .append(sweepSeed)
        .append(")\n\n")
        .append(
            "Score = (1 − still erased − disintegrated) + unrelated accuracy (at equal score, the higher unrelated SSIM);"
                + " the best per method is used above.\n\n")
        .append(
            "| method | lr | still erased | disintegrated | unrelated accuracy | unrelated SSIM | score |\n"
                + "|---|---|---|---|---|---|---|\n");
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      for (double lr : v.learningRates()) {
        for (JsonNode r :
            runs(ErasureBenchmark.SCENARIOS.get(0).name(), v.label(), lr, sweepSeed)) {
          md.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %.0e | %s | %s | %s | %.3f | %.3f |%n",
                  v.label(),
                  lr,
                  pct(r.get("erasedShare").asDouble()),
                  pct(r.get("disintegrated").asDouble()),
                  pct(r.get("unrelatedAccuracy").asDouble()),
                  r.get("unrelatedSsim").asDouble(),
                  score(r)));
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
