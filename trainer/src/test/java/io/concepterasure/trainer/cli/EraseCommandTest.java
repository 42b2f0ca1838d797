package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.erasure.ErasureOutput;
import io.concepterasure.trainer.erasure.RequestFields;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.SafetensorsWriter;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code trainer erase} end to end on the tiny SD 1.x fixture folder. */
class EraseCommandTest {
  private static final String UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors";
  @TempDir Path tmp;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private static Path base() {
    return ParityFixture.root().resolve("sd1-tiny");
  }

  private int run(String... args) {
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private List<String> args(Path output, int iterations, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "erase",
                "--model",
                base().toString(),
                "--output",
                output.toString(),
                "--concept",
                "a photo of a cat=a photo of a cow",
                "--iterations",
                Integer.toString(iterations),
                "--learning-rate",
                "1e-3",
                "--ddim-steps",
                "4",
                "--seed",
                "5",
                "--eval-prompt",
                "a photo of a house",
                "--eval-seed",
                "3",
                "--checkpoint-every",
                "2"));
    a.addAll(List.of(more));
    return a;
  }

  /**
   * Every tensor of {@code expected} equals {@code actual}'s element by element within {@code
   * tolerance}.
   */
  static void assertWeightsWithin(
      Map<String, float[]> expected, Map<String, float[]> actual, float tolerance) {
    expected.forEach(
        (name, want) -> {
          float[] got = actual.get(name);
          for (int i = 0; i < want.length; i++) {
            assertThat(Math.abs(got[i] - want[i]))
                .as(name + "[" + i + "]")
                .isLessThanOrEqualTo(tolerance);
          }
        });
  }

  private static Map<String, float[]> tensors(Path file) throws Exception {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsReader reader = SafetensorsReader.open(file)) {
      for (String name : reader.names()) {
        out.put(name, reader.read(name, manager, DataType.FLOAT32).toFloatArray());
      }
    }
    return out;
  }

  @Test
  void writesALoadableErasedModelWithItsRecordAndEvaluation() throws Exception {
    Path output = tmp.resolve("erased");
    int code = run(args(output, 4).toArray(String[]::new));
    assertThat(code).as(err.toString()).isZero();
    assertThat(err.toString()).contains("iteration 4/4 loss");

    // Only cross-attention moved; every other file is the base model's, byte for byte.
    Map<String, float[]> before = tensors(base().resolve(UNET_WEIGHTS));
    Map<String, float[]> after = tensors(output.resolve(UNET_WEIGHTS));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach(
        (name, values) -> {
          if (name.contains("attn2")) {
            assertThat(after.get(name)).as(name).isNotEqualTo(values);
          } else {
            assertThat(after.get(name)).as(name).isEqualTo(values);
          }
        });
    Map<String, String> baseFiles = ErasureOutput.sha256Tree(base());
    Map<String, String> outputFiles = ErasureOutput.sha256Tree(output);
    baseFiles.forEach(
        (file, sha) -> {
          if (!file.equals(UNET_WEIGHTS)) {
            assertThat(outputFiles).containsEntry(file, sha);
          }
        });
    assertThat(outputFiles).containsKeys(UNET_WEIGHTS, "evaluation.png");

    JsonNode record = new ObjectMapper().readTree(output.resolve("erasure.json").toFile());
    assertThat(record.at("/request/concepts/0/erase").asText()).isEqualTo("a photo of a cat");
    assertThat(record.at("/request/method/name").asText()).isEqualTo("allButOne");
    assertThat(record.at("/request/method/iterations").asInt()).isEqualTo(4);
    assertThat(record.at("/finalLosses/loss").isNumber()).isTrue();
    assertThat(record.at("/finalLosses/guide").isNumber()).isTrue();
    assertThat(record.at("/finalLosses/uncond").isNumber()).isTrue();
    assertThat(record.get("version").asText()).startsWith("trainer ");
    assertThat(record.get("startTime").asText()).isNotEmpty();
    assertThat(record.get("endTime").asText()).isNotEmpty();
    assertThat(new ObjectMapper().convertValue(record.get("baseModelFiles"), Map.class))
        .isEqualTo(baseFiles);
    Map<String, String> recorded =
        new ObjectMapper().convertValue(record.get("outputFiles"), Map.class);
    assertThat(recorded).isEqualTo(outputFiles);
    assertThat(record.at("/evaluation/prompts").toString())
        .isEqualTo("[\"a photo of a cat\",\"a photo of a cow\",\"a photo of a house\"]");
    assertThat(
            record.at("/evaluation/perPrompt/a photo of a cat/meanSquaredPixelChange").asDouble())
        .isPositive();
    try (Stream<Path> files = Files.list(output)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .doesNotContain(".erasure-staging", ".erasure-state");
    }

    // 3 prompts × 1 seed × (original, erased), 32 px each.
    BufferedImage grid = ImageIO.read(output.resolve("evaluation.png").toFile());
    assertThat(grid.getWidth()).isEqualTo(64);
    assertThat(grid.getHeight()).isEqualTo(96);

    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline erased =
            StableDiffusionPipeline.load(output, manager, DataType.FLOAT32)) {
      assertThat(erased.defaultImageSize()).isEqualTo(32);
    }

    // The same request again finds the finished output and leaves it alone; another request may not
    // reuse it.
    assertThat(run(args(output, 4).toArray(String[]::new))).isZero();
    assertThat(out.toString()).contains("already holds this erasure");
    assertThat(run(args(output, 5).toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("already holds a finished erasure of another request");
  }

  @Test
  void aRunKilledAndRestartedEndsWithTheWeightsOfAnUninterruptedRun() throws Exception {
    Path straight = tmp.resolve("straight");
    assertThat(run(args(straight, 6).toArray(String[]::new))).as(err.toString()).isZero();

    Path interrupted = tmp.resolve("interrupted");
    assertThat(run(args(interrupted, 6, "--stop-after-iterations", "3").toArray(String[]::new)))
        .isEqualTo(3);
    assertThat(interrupted.resolve("erasure.json")).doesNotExist();
    assertThat(interrupted.resolve("model_index.json")).doesNotExist();
    assertThat(interrupted.resolve(".erasure-state/state.safetensors")).exists();

    assertThat(run(args(interrupted, 6).toArray(String[]::new))).as(err.toString()).isZero();
    assertThat(out.toString()).contains("resuming from the state saved after iteration 2");
    Map<String, float[]> expected = tensors(straight.resolve(UNET_WEIGHTS));
    Map<String, float[]> actual = tensors(interrupted.resolve(UNET_WEIGHTS));
    assertWeightsWithin(expected, actual, 1e-6f);
  }

  @Test
  void aGpuJobOnTheCpuBuildFailsAtOnceNamingTheCause() throws Exception {
    // The operator sets CE_GPUS when the Job requests nvidia.com/gpu; these tests run on DJL's
    // CPU libtorch, as the CPU image does.
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    EraseCommand erase = cli.getSubcommands().get("erase").getCommand();
    erase.environment = Map.of("CE_GPUS", "1");
    Path output = tmp.resolve("o");
    assertThat(cli.execute(args(output, 4).toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString().strip())
        .startsWith("invalid input (device): the Job requested 1 GPU(s)")
        .contains("this is the CPU image")
        .doesNotContain("\n");
    assertThat(output).doesNotExist();

    // Without a GPU request the same run computes on the CPU, and erasure.json says so.
    erase.environment = Map.of();
    assertThat(cli.execute(args(output, 2).toArray(String[]::new))).isZero();
    assertThat(out.toString()).contains("device: cpu");
    assertThat(
            new ObjectMapper()
                .readTree(output.resolve("erasure.json").toFile())
                .path("device")
                .asText())
        .isEqualTo("cpu");
  }

  @Test
  void invalidInputExitsWithTwoAndNamesTheProblem() throws Exception {
    Path output = tmp.resolve("o");
    assertThat(run(args(output, 4, "--method", "magic").toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("method.name: unknown method 'magic'");
    assertThat(run(args(output, 4, "--parameters", "attention").toArray(String[]::new)))
        .isEqualTo(2);
    assertThat(err.toString()).contains("method.parameters: unknown parameter set 'attention'");
    assertThat(run(args(output, 4, "--precision", "half").toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString())
        .contains("method.precision: unknown precision 'half'; expected one of fp32, mixed");
    assertThat(run(args(output, 0).toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("method.iterations must be > 0 but was 0");
    assertThat(run(args(output, 4, "--concept", " ").toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("concepts[1].erase must not be empty");

    Path notAModel = Files.createDirectories(tmp.resolve("not-a-model"));
    Files.writeString(notAModel.resolve("readme.txt"), "hello");
    List<String> a = args(output, 4);
    a.set(a.indexOf("--model") + 1, notAModel.toString());
    assertThat(run(a.toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("invalid input: " + notAModel);
    assertThat(output.resolve("erasure.json")).doesNotExist();
    assertThat(output.resolve("model_index.json")).doesNotExist();
  }

  @Test
  void mixedPrecisionHoldsTheFrozenUNetInFloat16AndEndsNearTheFp32Run() throws Exception {
    Path fp32 = tmp.resolve("fp32");
    Path mixed = tmp.resolve("mixed");
    assertThat(run(args(fp32, 4).toArray(String[]::new))).as(err.toString()).isZero();
    assertThat(run(args(mixed, 4, "--precision", "mixed").toArray(String[]::new)))
        .as(err.toString())
        .isZero();
    assertThat(out.toString() + err.toString())
        .contains("precision fp32")
        .contains("precision mixed (frozen UNet in float16)");
    ObjectMapper json = new ObjectMapper();
    // Unset, the CPU's default is fp32; the request records only what it named.
    JsonNode fp32Record = json.readTree(fp32.resolve("erasure.json").toFile());
    assertThat(fp32Record.path("precision").asText()).isEqualTo("fp32");
    assertThat(fp32Record.at("/request/method").has("precision")).isFalse();
    JsonNode mixedRecord = json.readTree(mixed.resolve("erasure.json").toFile());
    assertThat(mixedRecord.path("precision").asText()).isEqualTo("mixed");
    assertThat(mixedRecord.at("/request/method/precision").asText()).isEqualTo("mixed");

    // The erased UNet is fp32 either way (same file size as the base's), and the float16 θ moves
    // φ's trained weights only a little beside how far training moved them.
    assertThat(Files.size(mixed.resolve(UNET_WEIGHTS)))
        .isEqualTo(Files.size(base().resolve(UNET_WEIGHTS)));
    Map<String, float[]> before = tensors(base().resolve(UNET_WEIGHTS));
    Map<String, float[]> afterFp32 = tensors(fp32.resolve(UNET_WEIGHTS));
    Map<String, float[]> afterMixed = tensors(mixed.resolve(UNET_WEIGHTS));
    double moved = 0;
    double apart = 0;
    for (String name : before.keySet()) {
      float[] b = before.get(name);
      float[] f = afterFp32.get(name);
      float[] m = afterMixed.get(name);
      for (int i = 0; i < b.length; i++) {
        moved += (f[i] - b[i]) * (double) (f[i] - b[i]);
        apart += (m[i] - f[i]) * (double) (m[i] - f[i]);
      }
      if (!name.contains("attn2")) {
        assertThat(m).as(name).isEqualTo(b);
      }
    }
    System.out.printf(
        "mixed vs fp32: |mixed - fp32| = %.3g, |fp32 - base| = %.3g%n",
        Math.sqrt(apart), Math.sqrt(moved));
    assertThat(apart).isPositive();
    assertThat(Math.sqrt(apart)).isLessThan(0.25 * Math.sqrt(moved));
  }

  @Test
  void gradientCheckpointingEndsWithTheWeightsOfThePlainRun() throws Exception {
    Path plain = tmp.resolve("plain");
    Path checkpointed = tmp.resolve("checkpointed");
    assertThat(run(args(plain, 3).toArray(String[]::new))).as(err.toString()).isZero();
    assertThat(run(args(checkpointed, 3, "--gradient-checkpointing").toArray(String[]::new)))
        .as(err.toString())
        .isZero();
    assertThat(out.toString()).contains(", gradient checkpointing");
    JsonNode record = new ObjectMapper().readTree(checkpointed.resolve("erasure.json").toFile());
    assertThat(record.at("/request/method/gradientCheckpointing").asBoolean()).isTrue();
    Map<String, float[]> before = tensors(base().resolve(UNET_WEIGHTS));
    Map<String, float[]> expected = tensors(plain.resolve(UNET_WEIGHTS));
    Map<String, float[]> actual = tensors(checkpointed.resolve(UNET_WEIGHTS));
    assertThat(
            expected.keySet().stream().filter(n -> !Arrays.equals(expected.get(n), before.get(n))))
        .as("tensors training moved")
        .isNotEmpty();
    assertWeightsWithin(expected, actual, 1e-6f);
  }

  @Test
  void aLossThatTurnsNaNStopsNamingTheIterationAndWritesNoModel() throws Exception {
    Path broken = tmp.resolve("broken");
    try (Stream<Path> walk = Files.walk(base())) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        Path target = broken.resolve(base().relativize(file).toString());
        Files.createDirectories(target.getParent());
        Files.copy(file, target);
      }
    }
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsReader reader = SafetensorsReader.open(base().resolve(UNET_WEIGHTS))) {
      Map<String, NDArray> weights = new LinkedHashMap<>();
      for (String name : reader.names()) {
        NDArray w = reader.read(name, manager, DataType.FLOAT32);
        weights.put(name, name.equals("conv_out.bias") ? w.mul(Float.NaN) : w);
      }
      SafetensorsWriter.write(broken.resolve(UNET_WEIGHTS), weights, Map.of("format", "pt"));
    }
    List<String> a = args(tmp.resolve("o"), 4);
    a.set(a.indexOf("--model") + 1, broken.toString());
    assertThat(run(a.toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains("loss is not finite at iteration 0");
    assertThat(tmp.resolve("o/erasure.json")).doesNotExist();
    assertThat(tmp.resolve("o/model_index.json")).doesNotExist();
  }

  @Test
  void aRequestFileWorksAndFlagsOverrideIt() throws Exception {
    Path request = tmp.resolve("request.yaml");
    Path output = tmp.resolve("from-file");
    Files.writeString(
        request,
        """
        model: {uri: %s}
        concepts: [{erase: a photo of a cat}]
        method: {name: esd, iterations: 50, learningRate: 1.0e-3, ddimSteps: 3, parameters: crossAttentionKV}
        output: {uri: %s}
        evaluation: {seeds: [1]}
        """
            .formatted(base(), output));
    assertThat(run("erase", "--request", request.toString(), "--iterations", "2"))
        .as(err.toString())
        .isZero();
    JsonNode record = new ObjectMapper().readTree(output.resolve("erasure.json").toFile());
    assertThat(record.at("/request/method/iterations").asInt()).isEqualTo(2);
    assertThat(record.at("/request/method/name").asText()).isEqualTo("esd");
    assertThat(record.at("/finalLosses/esd").isNumber()).isTrue();
    Map<String, float[]> before = tensors(base().resolve(UNET_WEIGHTS));
    Map<String, float[]> after = tensors(output.resolve(UNET_WEIGHTS));
    before.forEach(
        (name, values) -> {
          boolean trained = name.contains("attn2.to_k.") || name.contains("attn2.to_v.");
          assertThat(Arrays.equals(after.get(name), values)).as(name).isEqualTo(!trained);
        });
  }

  @Test
  void helpListsEachDefaultFromItsOneDeclaration() {
    assertThat(run("erase", "--help")).isZero();
    for (RequestFields.Field field : RequestFields.ALL) {
      if (field.defaultValue() != null) {
        assertThat(out.toString())
            .as(field.path())
            .containsPattern(
                field.path().replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")
                    + " +"
                    + java.util.regex.Pattern.quote(String.valueOf(field.defaultValue())));
      }
    }
  }

  @Test
  void theShapeClassifierJudgesTheEvaluationImages() throws Exception {
    Path output = tmp.resolve("judged");
    assertThat(run(args(output, 2, "--classifier", classifier().toString()).toArray(String[]::new)))
        .as(err.toString())
        .isZero();
    JsonNode record = new ObjectMapper().readTree(output.resolve("erasure.json").toFile());
    assertThat(record.at("/evaluation/classifier").asText()).isEqualTo(classifier().toString());
    JsonNode counts = record.at("/evaluation/perPrompt/a photo of a house/classifiedErased");
    int judged = 0;
    for (JsonNode n : counts) {
      judged += n.asInt();
    }
    assertThat(judged).as(counts.toString()).isEqualTo(1); // one evaluation seed
  }

  @Test
  void aClassifierThatCannotSeeTheModelsImagesIsRefusedBeforeTraining() throws Exception {
    // The same model drawing 16x16 images: the classifier judges 32x32 ones.
    Path small = tmp.resolve("small-model");
    try (Stream<Path> files = Files.walk(base())) {
      for (Path f : files.toList()) {
        Path target = small.resolve(base().relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
    Path config = small.resolve("unet/config.json");
    Files.writeString(
        config, Files.readString(config).replaceAll("\"sample_size\": *16", "\"sample_size\": 8"));
    Path output = tmp.resolve("never");
    List<String> a = args(output, 2, "--classifier", classifier().toString());
    a.set(a.indexOf("--model") + 1, small.toString());
    assertThat(run(a.toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString())
        .contains("--classifier judges 32x32 images but this model draws 16x16")
        .doesNotContain("iteration");
    assertThat(output.resolve("erasure.json")).doesNotExist();
  }

  private static Path classifier() {
    return Path.of(System.getProperty("repo.root", ".."))
        .resolve("examples/models/shape-classifier/classifier.safetensors");
  }
}
