package io.concepterasure.trainer.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.concepterasure.trainer.io.StateDictWriter;
import io.concepterasure.trainer.toy.ShapeClassifier;
import io.concepterasure.trainer.toy.ShapesDataset;
import io.concepterasure.trainer.toy.ToyPretraining;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer pretrain-toy}: the toy world's text-to-image model (AutoencoderKL, CLIP text
 * encoder, UNet2DConditionModel, trained from scratch on the synthetic shapes) in the diffusers
 * layout, and the shape-and-colour classifier that judges its images, with held-out accuracy. Each
 * output is built in a temporary folder and moved into place when complete.
 */
@Command(
    name = "pretrain-toy",
    mixinStandardHelpOptions = true,
    description = {
      "Trains the toy shapes model (diffusers layout) and the shape classifier on the project's synthetic data."
    })
public final class PretrainToyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--output",
      defaultValue = "examples/models/toy-shapes",
      description = "model folder to write (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--tokenizer",
      description =
          "a CLIP tokenizer folder (vocab.json, merges.txt, ...) to ship with the model; required unless --skip-model")
  Path tokenizer;

  @Option(
      names = "--classifier-output",
      defaultValue = "examples/models/shape-classifier",
      description = "classifier folder to write (default: ${DEFAULT-VALUE})")
  Path classifierOut;

  @Option(names = "--vae-steps", defaultValue = "800", description = "default: ${DEFAULT-VALUE}")
  int vaeSteps;

  @Option(names = "--unet-steps", defaultValue = "5000", description = "default: ${DEFAULT-VALUE}")
  int unetSteps;

  @Option(
      names = "--classifier-steps",
      defaultValue = "4000",
      description = "default: ${DEFAULT-VALUE}")
  int classifierSteps;

  @Option(names = "--batch-size", defaultValue = "32", description = "default: ${DEFAULT-VALUE}")
  int batchSize;

  @Option(
      names = "--vae-learning-rate",
      defaultValue = "1e-3",
      description = "default: ${DEFAULT-VALUE}")
  float vaeLearningRate;

  @Option(
      names = "--unet-learning-rate",
      defaultValue = "5e-4",
      description = "default: ${DEFAULT-VALUE}")
  float unetLearningRate;

  @Option(
      names = "--classifier-learning-rate",
      defaultValue = "3e-3",
      description = "default: ${DEFAULT-VALUE}")
  float classifierLearningRate;

  @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
  long seed;

  @Option(names = "--skip-model", description = "train only the classifier")
  boolean skipModel;

  @Option(names = "--skip-classifier", description = "train only the model")
  boolean skipClassifier;

  @Override
  public Integer call() throws Exception {
    if (!skipModel && (tokenizer == null || !Files.isDirectory(tokenizer))) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--tokenizer: a CLIP tokenizer folder is required, got " + tokenizer);
    }
    if (vaeSteps < 1 || unetSteps < 1 || classifierSteps < 1 || batchSize < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "steps and --batch-size must be at least 1");
    }
    PrintWriter log = spec.commandLine().getErr();
    boolean terminal = System.console() != null;
    Map<String, TrainingProgress> bars = new HashMap<>();
    try (NDManager manager = NDManager.newBaseManager(Engine.getInstance().defaultDevice())) {
      if (!skipModel) {
        Path partial = fresh(out);
        new ToyPretraining(
                new ToyPretraining.Schedule(
                    vaeSteps, unetSteps, batchSize, vaeLearningRate, unetLearningRate, seed),
                new ToyPretraining.StepListener() {
                  @Override
                  public void beforeStage(String stage, int steps) {
                    bars.put(
                        stage,
                        new TrainingProgress(
                            log, terminal, 0, steps, System::nanoTime, stage + " step"));
                  }

                  @Override
                  public void afterStep(
                      String stage, int step, int steps, Map<String, Double> losses) {
                    bars.get(stage).update(step, losses);
                  }
                })
            .run(tokenizer, partial, manager);
        commit(partial, out);
        spec.commandLine().getOut().println("wrote the toy model to " + out);
      }
      if (!skipClassifier) {
        Path partial = fresh(classifierOut);
        ShapesDataset data = new ShapesDataset(seed);
        ShapeClassifier classifier = new ShapeClassifier();
        classifier.initialize(manager, seed);
        TrainingProgress bar =
            new TrainingProgress(
                log, terminal, 0, classifierSteps, System::nanoTime, "classifier step");
        classifier.train(
            manager,
            data,
            classifierSteps,
            batchSize,
            classifierLearningRate,
            step -> bar.update(step, Map.of()));
        ShapeClassifier.Accuracy accuracy = classifier.heldOutAccuracy(manager, data, 2000, 500);
        ShapeClassifier.Accuracy lookAccuracy =
            classifier.heldOutAccuracy(manager, data, 2000, 500, true);
        StateDictWriter.save(classifier, partial.resolve("classifier.safetensors"));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("heldOut", accuracy);
        report.put("heldOutGeneratorLook", lookAccuracy);
        report.put("steps", classifierSteps);
        report.put("batchSize", batchSize);
        report.put("learningRate", classifierLearningRate);
        report.put("seed", seed);
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .writeValue(partial.resolve("accuracy.json").toFile(), report);
        commit(partial, classifierOut);
        spec.commandLine()
            .getOut()
            .printf(
                "classifier held-out accuracy: shape %.3f, colour %.3f, none %.3f, shape and colour %.3f (%d shape and %d none images)%n",
                accuracy.shape(),
                accuracy.colour(),
                accuracy.none(),
                accuracy.joint(),
                accuracy.shapeImages(),
                accuracy.noneImages());
        spec.commandLine()
            .getOut()
            .printf(
                "  with the generator look (blurred, shaded, noised): shape %.3f, colour %.3f, none %.3f, shape and colour %.3f%n",
                lookAccuracy.shape(),
                lookAccuracy.colour(),
                lookAccuracy.none(),
                lookAccuracy.joint());
      }
    }
    return 0;
  }

  private static Path fresh(Path target) throws IOException {
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    deleteTree(partial);
    Files.createDirectories(partial);
    return partial;
  }

  /** Replaces {@code target} with the finished {@code partial} folder. */
  private static void commit(Path partial, Path target) throws IOException {
    deleteTree(target);
    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteTree(Path folder) throws IOException {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
