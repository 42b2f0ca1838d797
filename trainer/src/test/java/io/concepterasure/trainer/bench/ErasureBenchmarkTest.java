package io.concepterasure.trainer.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.bench.ErasureBenchmark.RunSpec;
import io.concepterasure.trainer.cli.BenchErasureCommand;
import io.concepterasure.trainer.cli.TrainerCommand;
import io.concepterasure.trainer.toy.ShapesDataset;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The erasure benchmark's harness on the bundled toy model with a handful of images and iterations:
 * every metric is produced and lies in its range; the numbers themselves are the benchmark's
 * (docs/benchmarks.md), not a test's.
 */
class ErasureBenchmarkTest {
  private static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  private static final Path MODEL = REPO.resolve("examples/models/toy-shapes");
  private static final Path CLASSIFIER =
      REPO.resolve("examples/models/shape-classifier/classifier.safetensors");

  @TempDir Path out;

  @Test
  void judgesTheOriginalThenARunAndReportsBoth() throws Exception {
    ErasureBenchmark benchmark =
        new ErasureBenchmark(
            MODEL,
            CLASSIFIER,
            new ErasureBenchmark.Protocol(2, 3, 2, 2, 2, 2, 3f, 1.0),
            new PrintWriter(new StringWriter()));
    Map<String, Object> baseline = benchmark.baseline(out);
    assertThat(List.copyOf(((Map<?, ?>) baseline.get("shapeRecognised")).keySet()))
        .isEqualTo(List.of("circle", "square", "triangle", "cross"));
    for (String scenario : List.of("circle-to-square", "triangle-without-alternative")) {
      for (String phase : List.of("val", "test")) {
        assertThat(out.resolve("baseline-" + scenario + "-" + phase + ".safetensors"))
            .isNotEmptyFile();
      }
    }

    RunSpec validation =
        new RunSpec(
            "triangle-without-alternative",
            "allButOne",
            1e-3,
            7,
            ErasureBenchmark.Phase.VALIDATION);
    Map<String, Object> held = benchmark.runOne(validation, out);
    assertThat((List<?>) held.get("retainPrompts"))
        .isEqualTo(ErasureBenchmark.scenario("triangle-without-alternative").retainPool());
    RunSpec spec =
        new RunSpec("circle-to-square", "allButOne", 1e-3, 0, ErasureBenchmark.Phase.TEST);
    Map<String, Object> run = benchmark.runOne(spec, out);
    assertThat((List<?>) run.get("retainPrompts")).as("an alternative: no default pool").isEmpty();
    for (String share :
        List.of(
            "erasedShare",
            "alternativeShare",
            "disintegrated",
            "unrelatedAccuracy",
            "unrelatedShapeAccuracy",
            "unrelatedColourAccuracy")) {
      assertThat((Double) run.get(share)).as(share).isBetween(0.0, 1.0);
    }
    assertThat((Double) run.get("unrelatedSsim")).isBetween(-1.0, 1.0);
    assertThat((Double) run.get("unrelatedLatentMse")).isNotNegative();
    assertThat((Double) run.get("unrelatedFrechet")).isNotNegative();
    assertThat((Double) run.get("secondsPerIteration")).isPositive();
    assertThat((List<?>) run.get("curve")).hasSize(2);
    assertThat(out.resolve("runs").resolve(spec.fileName())).isNotEmptyFile();

    BenchmarkReport report = BenchmarkReport.read(out);
    assertThat(report.bestLearningRates("circle-to-square", 0))
        .as("a test run is never a sweep's")
        .isEmpty();
    assertThat(report.bestLearningRates("triangle-without-alternative", 7))
        .isEqualTo(Map.of("allButOne", 1e-3));
    assertThat(
            report.markdown(
                Map.of(
                    "circle-to-square",
                    Map.of("allButOne", 1e-3),
                    "triangle-without-alternative",
                    Map.of("allButOne", 1e-3)),
                7))
        .contains("| allButOne (1e-03) | 1 | ")
        .contains("| allButOne | 1e-03 | ");
  }

  @Test
  void theErasurePlateausAtTheFirstCheckpointWithinFivePointsOfTheBest() {
    List<Map<String, Object>> curve =
        List.of(
            Map.of("iteration", 25, "erasedShare", 0.9),
                Map.of("iteration", 50, "erasedShare", 0.3),
            Map.of("iteration", 75, "erasedShare", 0.12),
                Map.of("iteration", 100, "erasedShare", 0.1));
    assertThat(ErasureBenchmark.plateau(curve)).isEqualTo(75);
    assertThat(ErasureBenchmark.plateau(List.of())).isNull();
  }

  @Test
  void onlyToyWorldPromptsCanBeJudged() {
    assertThat(ErasureBenchmark.parse("a purple cross").shape())
        .isEqualTo(ShapesDataset.ShapeKind.CROSS);
    assertThatThrownBy(() -> ErasureBenchmark.parse("a photo of a cat"))
        .hasMessage("'a photo of a cat' is not a toy-world prompt (\"a <colour> <shape>\")");
  }

  @Test
  void statisticsAreTheMeanAndTheSampleStandardDeviation() throws Exception {
    ObjectMapper json = new ObjectMapper();
    double[] ms =
        BenchmarkReport.meanSd(
            List.of(
                json.readTree("{\"x\": 1}"),
                json.readTree("{\"x\": 3}"),
                json.readTree("{\"y\": 100}")),
            "x",
            100);
    assertThat(ms[0]).isEqualTo(200.0);
    assertThat(ms[1]).isEqualTo(Math.sqrt(20000.0));
  }

  @Test
  void theSweepPrefersTheHigherScoreThenTheLessDriftingRun() throws Exception {
    ObjectMapper json = new ObjectMapper();
    var erasesAndKeeps =
        json.readTree(
            "{\"erasedShare\": 0, \"disintegrated\": 0, \"unrelatedAccuracy\": 0.98, \"unrelatedSsim\": 0.91}");
    var erasesAndDrifts =
        json.readTree(
            "{\"erasedShare\": 0, \"disintegrated\": 0, \"unrelatedAccuracy\": 0.98, \"unrelatedSsim\": 0.89}");
    var breaks =
        json.readTree(
            "{\"erasedShare\": 0, \"disintegrated\": 0.5, \"unrelatedAccuracy\": 0.3, \"unrelatedSsim\": 0.5}");
    assertThat(BenchmarkReport.better(erasesAndKeeps, erasesAndDrifts)).isTrue();
    assertThat(BenchmarkReport.better(erasesAndDrifts, erasesAndKeeps)).isFalse();
    assertThat(BenchmarkReport.better(erasesAndDrifts, breaks)).isTrue();
  }

  @Test
  void theToyRetainPoolHoldsTheOtherShapesButNoJudgedPrompt() {
    for (ErasureBenchmark.Scenario s : ErasureBenchmark.SCENARIOS) {
      List<String> pool = s.retainPool();
      assertThat(pool).isNotEmpty().doesNotContainAnyElementsOf(s.testPrompts());
      assertThat(pool).doesNotContainAnyElementsOf(s.validationPrompts());
      assertThat(pool).noneMatch(p -> p.endsWith(" " + s.erased().word()));
      assertThat(s.validationPrompts()).doesNotContainAnyElementsOf(s.testPrompts());
    }
    assertThat(ErasureBenchmark.scenario("triangle-without-alternative").retainPool())
        .hasSize(20 - 5 - 8);
  }

  @Test
  void aRunThatDoesNotEraseNeverWinsTheSweepOnPreservation() throws Exception {
    ObjectMapper json = new ObjectMapper();
    var doesNothing =
        json.readTree(
            "{\"erasedShare\": 0.98, \"disintegrated\": 0, \"unrelatedAccuracy\": 0.98, \"unrelatedSsim\": 1}");
    var erasesAndBreaks =
        json.readTree(
            "{\"erasedShare\": 0.05, \"disintegrated\": 0.6, \"unrelatedAccuracy\": 0.2, \"unrelatedSsim\": 0.4}");
    var erasesLess =
        json.readTree(
            "{\"erasedShare\": 0.5, \"disintegrated\": 0, \"unrelatedAccuracy\": 0.98, \"unrelatedSsim\": 1}");
    assertThat(BenchmarkReport.better(erasesAndBreaks, doesNothing)).isTrue();
    assertThat(BenchmarkReport.better(erasesLess, doesNothing)).isTrue();
  }

  @Test
  void sweepGridsWidenOnAOneThreeTenScale() {
    assertThat(BenchErasureCommand.stepUp(1e-3)).isEqualTo(3e-3);
    assertThat(BenchErasureCommand.stepUp(3e-3)).isEqualTo(1e-2);
    assertThat(BenchErasureCommand.stepDown(1e-4)).isEqualTo(3e-5);
    assertThat(BenchErasureCommand.stepDown(3e-5)).isEqualTo(1e-5);
  }

  @Test
  void aMissingModelIsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setErr(new PrintWriter(err));
    int code =
        cli.execute(
            "bench-erasure",
            "--model",
            out.resolve("nothing").toString(),
            "--output",
            out.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--model must be a diffusers folder");
  }
}
