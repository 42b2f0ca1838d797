package io.concepterasure.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.bench.BenchmarkReport;
import io.concepterasure.trainer.bench.ErasureBenchmark;
import io.concepterasure.trainer.bench.ErasureBenchmark.RunSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer bench-erasure}: the erasure benchmark of docs/benchmarks.md, end to end: judge the
 * original toy model, sweep each method's learning rate, train every (scenario, method, seed) at
 * its best rate, and write {@code report.md}. Each training run is its own process, so its peak
 * memory is its own; finished runs are kept in {@code --output} and not run again.
 */
@Command(
    name = "bench-erasure",
    mixinStandardHelpOptions = true,
    description = {"Benchmarks allButOne against esd and conceptAblation on the toy shapes model."})
public final class BenchErasureCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      defaultValue = "examples/models/toy-shapes",
      description = "default: ${DEFAULT-VALUE}")
  Path model;

  @Option(
      names = "--classifier",
      defaultValue = "examples/models/shape-classifier/classifier.safetensors",
      description = "default: ${DEFAULT-VALUE}")
  Path classifier;

  @Option(
      names = "--output",
      defaultValue = "target/bench-erasure",
      description = "results folder (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--iterations",
      defaultValue = "200",
      description = "training iterations per run (default: ${DEFAULT-VALUE})")
  int iterations;

  @Option(
      names = "--samples",
      defaultValue = "64",
      description = "images per prompt (default: ${DEFAULT-VALUE})")
  int samples;

  @Option(
      names = "--curve-samples",
      defaultValue = "32",
      description = "images per erasure-curve point (default: ${DEFAULT-VALUE})")
  int curveSamples;

  @Option(
      names = "--checkpoints",
      defaultValue = "8",
      description = "erasure-curve points per run (default: ${DEFAULT-VALUE})")
  int checkpoints;

  @Option(
      names = "--evaluation-steps",
      defaultValue = "20",
      description = "DDIM steps of the judged images (default: ${DEFAULT-VALUE})")
  int evaluationSteps;

  @Option(
      names = "--ddim-steps",
      defaultValue = "20",
      description = "the method's ddimSteps (x_t sampling) (default: ${DEFAULT-VALUE})")
  int ddimSteps;

  @Option(
      names = "--guidance",
      defaultValue = "3.0",
      description = "guidance scale, training and images (default: ${DEFAULT-VALUE})")
  float guidance;

  @Option(
      names = "--seeds",
      split = ",",
      defaultValue = "0,1,2",
      description = "training seeds; the first one sweeps (default: ${DEFAULT-VALUE})")
  List<Long> seeds;

  @Option(
      names = "--variants",
      split = ",",
      description = "only these methods (allButOne, esd-x, esd-u, conceptAblation)")
  List<String> variants;

  @Option(
      names = "--in-process",
      description = "run the training runs in this process (peak memory then covers them all)")
  boolean inProcess;

  @Option(
      names = "--parallel",
      defaultValue = "1",
      description =
          "training runs at once, each then on one PyTorch thread (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(
      names = "--run",
      hidden = true,
      description =
          "scenario:variant:learningRate:seed - one run only (what each child process does)")
  String run;

  @Override
  public Integer call() throws Exception {
    PrintWriter log = spec.commandLine().getErr();
    if (!Files.isDirectory(model) || !Files.isRegularFile(classifier)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--model must be a diffusers folder and --classifier a file; got "
              + model
              + " and "
              + classifier
              + " (train them with `trainer pretrain-toy`)");
    }
    if (iterations < 1
        || samples < 2
        || curveSamples < 1
        || checkpoints < 1
        || evaluationSteps < 1
        || ddimSteps < 1
        || seeds.isEmpty()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--iterations, --curve-samples, --checkpoints, the step counts must be at least 1, --samples at least 2, --seeds not empty");
    }
    ErasureBenchmark.Protocol settings =
        new ErasureBenchmark.Protocol(
            iterations, samples, curveSamples, checkpoints, evaluationSteps, ddimSteps, guidance);
    ErasureBenchmark benchmark = new ErasureBenchmark(model, classifier, settings, log);
    if (run != null) {
      String[] parts = run.split(":");
      benchmark.runOne(
          new RunSpec(parts[0], parts[1], Double.parseDouble(parts[2]), Long.parseLong(parts[3])),
          out);
      return 0;
    }
    checkProtocol(settings);
    if (!Files.isRegularFile(out.resolve("baseline.json"))) {
      log.println("judging the original model");
      benchmark.baseline(out);
    }
    List<ErasureBenchmark.Variant> chosen = new ArrayList<>();
    for (ErasureBenchmark.Variant v : ErasureBenchmark.VARIANTS) {
      if (variants == null || variants.contains(v.label())) {
        chosen.add(v);
      }
    }
    String sweepScenario = ErasureBenchmark.SCENARIOS.get(0).name();
    long sweepSeed = seeds.get(0);
    List<RunSpec> sweep = new ArrayList<>();
    for (ErasureBenchmark.Variant v : chosen) {
      for (double lr : v.learningRates()) {
        sweep.add(new RunSpec(sweepScenario, v.label(), lr, sweepSeed));
      }
    }
    ensureAll(benchmark, sweep, log);
    Map<String, Double> best =
        BenchmarkReport.read(out).bestLearningRates(sweepScenario, sweepSeed);
    log.println("best learning rates: " + best);
    List<RunSpec> main = new ArrayList<>();
    for (ErasureBenchmark.Scenario scenario : ErasureBenchmark.SCENARIOS) {
      for (ErasureBenchmark.Variant v : chosen) {
        for (long seed : seeds) {
          main.add(new RunSpec(scenario.name(), v.label(), best.get(v.label()), seed));
        }
      }
    }
    ensureAll(benchmark, main, log);
    String report = BenchmarkReport.read(out).markdown(best, sweepSeed);
    Files.writeString(out.resolve("report.md"), report);
    spec.commandLine().getOut().println(report);
    return 0;
  }

  /** Refuses to mix results of other settings into one report. */
  private void checkProtocol(ErasureBenchmark.Protocol settings) throws IOException {
    Files.createDirectories(out);
    Path file = out.resolve("settings.json");
    // Through text, as the file is read: a float is a DoubleNode once parsed back.
    JsonNode wanted =
        JSON.readTree(
            JSON.writeValueAsString(Map.of("settings", settings, "model", model.toString())));
    if (Files.isRegularFile(file) && !JSON.readTree(file.toFile()).equals(wanted)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--output "
              + out
              + " holds results of other settings ("
              + file
              + "); choose another --output or remove it");
    }
    JSON.writeValue(file.toFile(), wanted);
  }

  /**
   * Runs what is not done yet, {@code --parallel} at a time; fails after all ended if any failed.
   */
  private void ensureAll(ErasureBenchmark benchmark, List<RunSpec> runs, PrintWriter log)
      throws Exception {
    List<RunSpec> todo =
        runs.stream()
            .distinct()
            .filter(r -> !Files.isRegularFile(out.resolve("runs").resolve(r.fileName())))
            .toList();
    if (inProcess || parallel <= 1) {
      for (RunSpec run : todo) {
        ensure(benchmark, run, log);
      }
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (RunSpec run : todo) {
        futures.add(
            pool.submit(
                () -> {
                  ensure(benchmark, run, log);
                  return null;
                }));
      }
      Exception first = null;
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          first = first == null ? (Exception) e.getCause() : first;
        }
      }
      if (first != null) {
        throw first;
      }
    } finally {
      pool.shutdown();
    }
  }

  private void ensure(ErasureBenchmark benchmark, RunSpec run, PrintWriter log)
      throws IOException, InterruptedException {
    synchronized (log) {
      log.println("run " + run);
      log.flush();
    }
    if (inProcess) {
      benchmark.runOne(run, out);
      return;
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Dai.djl.offline=" + System.getProperty("ai.djl.offline", "true"));
    if (parallel > 1) {
      // Runs side by side: one thread each, or their OpenMP threads spin against each other.
      command.add("-Dai.djl.pytorch.num_threads=1");
      command.add("-Dai.djl.pytorch.num_interop_threads=1");
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(TrainerCommand.class.getName());
    command.addAll(
        List.of(
            "bench-erasure",
            "--model",
            model.toString(),
            "--classifier",
            classifier.toString(),
            "--output",
            out.toString(),
            "--iterations",
            "" + iterations,
            "--samples",
            "" + samples,
            "--curve-samples",
            "" + curveSamples,
            "--checkpoints",
            "" + checkpoints,
            "--evaluation-steps",
            "" + evaluationSteps,
            "--ddim-steps",
            "" + ddimSteps,
            "--guidance",
            "" + guidance,
            "--run",
            run.scenario() + ":" + run.variant() + ":" + run.learningRate() + ":" + run.seed()));
    Path logs = out.resolve("logs");
    Files.createDirectories(logs);
    Path logFile = logs.resolve(run.fileName().replace(".json", ".log"));
    long start = System.nanoTime();
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile());
    if (parallel > 1) {
      builder.environment().put("OMP_NUM_THREADS", "1");
    }
    int exit = builder.start().waitFor();
    synchronized (log) {
      log.printf(
          Locale.ROOT,
          "run %s ended (exit %d, %.0f s, log %s)%n",
          run,
          exit,
          (System.nanoTime() - start) / 1e9,
          logFile);
      log.flush();
    }
    if (exit != 0) {
      throw new IllegalStateException(
          "benchmark run " + run + " failed with exit code " + exit + "; see " + logFile);
    }
  }
}
