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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
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
      defaultValue = "50",
      description =
          "the method's ddimSteps (x_t sampling); the request's default, so that training"
              + " timesteps are not only the evaluation's 20 (default: ${DEFAULT-VALUE})")
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
      description = "training seeds of the reported (test) runs (default: ${DEFAULT-VALUE})")
  List<Long> seeds;

  @Option(
      names = "--sweep-seed",
      defaultValue = "1000",
      description =
          "training seed of the sweep's validation runs; not one of --seeds (default: ${DEFAULT-VALUE})")
  long sweepSeed;

  @Option(
      names = "--widen",
      defaultValue = "2",
      description =
          "times a sweep grid is extended past its end when its best rate is there (default: ${DEFAULT-VALUE})")
  int widen;

  @Option(
      names = "--preserve-weight",
      defaultValue = "1.0",
      description =
          "μ, the weight of L_keep over the toy retain pool; 0 turns it off (default: ${DEFAULT-VALUE})")
  double preserveWeight;

  @Option(
      names = "--scenarios",
      split = ",",
      description = "only these scenarios (circle-to-square, triangle-without-alternative)")
  List<String> scenarios;

  @Option(
      names = "--max-runs",
      description =
          "train at most this many runs, then exit with 75; run again to continue (keeps each"
              + " locked job short)")
  Integer maxRuns;

  @Option(
      names = "--variants",
      split = ",",
      description = "only these methods (allButOne, allButOne-kv, esd-x, esd-u, conceptAblation)")
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
          "scenario:variant:learningRate:seed:phase - one run only (what each child process does)")
  String run;

  /** Runs started by this process, against --max-runs. */
  private int started;

  /** --max-runs reached: the command stops, and a later call continues. */
  private static final class Budget extends RuntimeException {}

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
        || seeds.isEmpty()
        || widen < 0
        || preserveWeight < 0
        || seeds.contains(sweepSeed)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--iterations, --curve-samples, --checkpoints, the step counts must be at least 1, --samples at least 2, --seeds not empty and without --sweep-seed, --widen and --preserve-weight at least 0");
    }
    ErasureBenchmark.Protocol settings =
        new ErasureBenchmark.Protocol(
            iterations,
            samples,
            curveSamples,
            checkpoints,
            evaluationSteps,
            ddimSteps,
            guidance,
            preserveWeight);
    ErasureBenchmark benchmark = new ErasureBenchmark(model, classifier, settings, log);
    if (run != null) {
      String[] parts = run.split(":");
      benchmark.runOne(
          new RunSpec(
              parts[0],
              parts[1],
              Double.parseDouble(parts[2]),
              Long.parseLong(parts[3]),
              ErasureBenchmark.Phase.fromTag(parts[4])),
          out);
      return 0;
    }
    checkProtocol(settings);
    try {
      return runAll(benchmark, log);
    } catch (Budget b) {
      log.println(
          "stopped after "
              + started
              + " runs (--max-runs); run the same command again to continue");
      return 75;
    }
  }

  private int runAll(ErasureBenchmark benchmark, PrintWriter log) throws Exception {
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
    List<ErasureBenchmark.Scenario> chosenScenarios = new ArrayList<>();
    for (ErasureBenchmark.Scenario s : ErasureBenchmark.SCENARIOS) {
      if (scenarios == null || scenarios.contains(s.name())) {
        chosenScenarios.add(s);
      }
    }
    Map<String, Map<String, Double>> best = new LinkedHashMap<>();
    for (ErasureBenchmark.Scenario scenario : chosenScenarios) {
      best.put(scenario.name(), sweep(benchmark, scenario, chosen, log));
    }
    log.println("best learning rates: " + best);
    List<RunSpec> main = new ArrayList<>();
    for (ErasureBenchmark.Scenario scenario : chosenScenarios) {
      for (ErasureBenchmark.Variant v : chosen) {
        for (long seed : seeds) {
          main.add(
              new RunSpec(
                  scenario.name(),
                  v.label(),
                  best.get(scenario.name()).get(v.label()),
                  seed,
                  ErasureBenchmark.Phase.TEST));
        }
      }
    }
    ensureAll(benchmark, main, log);
    String report = BenchmarkReport.read(out).markdown(best, sweepSeed);
    Files.writeString(out.resolve("report.md"), report);
    spec.commandLine().getOut().println(report);
    return 0;
  }

  /**
   * The sweep of one scenario on validation runs: each variant's grid, widened by a step past the
   * end where its best rate lies there (at most --widen times); returns the best rate per variant.
   */
  private Map<String, Double> sweep(
      ErasureBenchmark benchmark,
      ErasureBenchmark.Scenario scenario,
      List<ErasureBenchmark.Variant> chosen,
      PrintWriter log)
      throws Exception {
    Map<String, List<Double>> grids = new LinkedHashMap<>();
    chosen.forEach(v -> grids.put(v.label(), new ArrayList<>(v.learningRates())));
    Map<String, Double> best = new LinkedHashMap<>();
    for (int round = 0; ; round++) {
      List<RunSpec> todo = new ArrayList<>();
      grids.forEach(
          (variant, grid) ->
              grid.forEach(
                  lr ->
                      todo.add(
                          new RunSpec(
                              scenario.name(),
                              variant,
                              lr,
                              sweepSeed,
                              ErasureBenchmark.Phase.VALIDATION))));
      ensureAll(benchmark, todo, log);
      BenchmarkReport report = BenchmarkReport.read(out);
      boolean widened = false;
      for (ErasureBenchmark.Variant v : chosen) {
        List<Double> grid = grids.get(v.label());
        double top = report.bestLearningRates(scenario.name(), sweepSeed).get(v.label());
        best.put(v.label(), top);
        List<Double> sorted = grid.stream().sorted().toList();
        if (round < widen && grid.size() > 1) {
          if (top == sorted.get(sorted.size() - 1) && stepUp(top) <= 1.0) {
            grid.add(stepUp(top));
            widened = true;
          } else if (top == sorted.get(0)) {
            grid.add(stepDown(top));
            widened = true;
          }
        }
      }
      if (!widened) {
        return best;
      }
      log.println("widening the grids of " + scenario.name() + ": " + grids);
    }
  }

  /** The next rate of a 1-3-10 grid: 1e-3 → 3e-3 → 1e-2. */
  public static double stepUp(double lr) {
    double exponent = Math.floor(Math.log10(lr) + 1e-9);
    double mantissa = lr / Math.pow(10, exponent);
    return Double.parseDouble(
        String.format(
            Locale.ROOT,
            "%.0e",
            mantissa < 2 ? 3 * Math.pow(10, exponent) : Math.pow(10, exponent + 1)));
  }

  /** The rate before {@code lr} on a 1-3-10 grid: 1e-3 → 3e-4 → 1e-4. */
  public static double stepDown(double lr) {
    double exponent = Math.floor(Math.log10(lr) + 1e-9);
    double mantissa = lr / Math.pow(10, exponent);
    return Double.parseDouble(
        String.format(
            Locale.ROOT,
            "%.0e",
            mantissa < 2 ? 3 * Math.pow(10, exponent - 1) : Math.pow(10, exponent)));
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
    synchronized (this) {
      if (maxRuns != null && started >= maxRuns) {
        throw new Budget();
      }
      started++;
    }
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
            "--preserve-weight",
            "" + preserveWeight,
            "--seeds",
            seeds.stream().map(String::valueOf).collect(Collectors.joining(",")),
            "--sweep-seed",
            "" + sweepSeed,
            "--run",
            run.scenario()
                + ":"
                + run.variant()
                + ":"
                + run.learningRate()
                + ":"
                + run.seed()
                + ":"
                + run.phase().tag()));
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
