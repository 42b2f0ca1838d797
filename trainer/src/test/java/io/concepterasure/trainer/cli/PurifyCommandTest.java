package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.pipeline.ImageGrid;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import io.concepterasure.trainer.toy.ShapeJudge;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code trainer purify} on the toy model with a red circle → red square erasure made here (a short
 * one: All but One's erasure plateaus long before the benchmark's 200 iterations).
 */
class PurifyCommandTest {
  private static final Path REPO =
      Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  private static final Path MODEL = REPO.resolve("examples/models/toy-shapes");
  private static final Path CLASSIFIER =
      REPO.resolve("examples/models/shape-classifier/classifier.safetensors");

  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path erased;
  private static Path inputs;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @BeforeAll
  static void eraseAndDrawInputs() throws Exception {
    erased = shared.resolve("erased");
    CommandLine cli = new CommandLine(new TrainerCommand());
    StringWriter log = new StringWriter();
    cli.setOut(new PrintWriter(log, true));
    cli.setErr(new PrintWriter(log, true));
    int code =
        cli.execute(
            "erase",
            "--model",
            MODEL.toString(),
            "--output",
            erased.toString(),
            "--concept",
            "a red circle=a red square",
            "--iterations",
            "60",
            "--learning-rate",
            "1e-3",
            "--ddim-steps",
            "20",
            "--seed",
            "0",
            "--eval-prompt",
            "a blue triangle",
            "--eval-seed",
            "0",
            "--checkpoint-every",
            "0",
            "--device",
            "cpu");
    assertThat(code).as(log.toString()).isZero();

    // Inputs drawn by the original model, each with its caption beside it.
    inputs = Files.createDirectories(shared.resolve("inputs"));
    List<String> captions = List.of("a red circle", "a blue triangle", "a green cross");
    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline pipeline =
            StableDiffusionPipeline.load(MODEL, manager, DataType.FLOAT32)) {
      NDArray images =
          pipeline.generate(manager, captions, new long[] {1000, 1001}, 32, 32, 20, 3f);
      List<BufferedImage> pictures = ImageGrid.toImages(images);
      for (int i = 0; i < pictures.size(); i++) {
        String name = captions.get(i / 2).replace(' ', '-') + "-" + (i % 2);
        ImageIO.write(pictures.get(i), "png", inputs.resolve(name + ".png").toFile());
        Files.writeString(inputs.resolve(name + ".txt"), captions.get(i / 2) + "\n");
      }
    }
  }

  @Test
  void circlesBecomeSquaresOtherShapesStay() throws Exception {
    Path output = tmp.resolve("purified");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            inputs.toString(),
            "--caption-files",
            "--steps",
            "10",
            // Chosen on bench-purification's validation seeds (1000-1004); at 1 circles stay (32%).
            "--guidance",
            "5",
            "--device",
            "cpu",
            "--output",
            output.toString());
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("wrote 6 purified image(s)");
    try (var files = Files.list(tmp)) {
      assertThat(files).as("no staging folder left").containsExactly(output);
    }

    ShapeJudge judge = new ShapeJudge(CLASSIFIER);
    List<String> names = new ArrayList<>();
    List<BufferedImage> before = new ArrayList<>();
    List<BufferedImage> after = new ArrayList<>();
    try (var files = Files.list(inputs)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".png")).sorted().toList()) {
        names.add(p.getFileName().toString());
        before.add(ImageIO.read(p.toFile()));
        after.add(ImageIO.read(output.resolve(p.getFileName()).toFile()));
      }
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      List<String> inputLabels = judge.labels(ImageGrid.fromImages(manager, before));
      List<String> outputLabels = judge.labels(ImageGrid.fromImages(manager, after));
      for (int i = 0; i < names.size(); i++) {
        String caption = names.get(i).replaceAll("-\\d\\.png$", "").replace('-', ' ');
        assertThat(inputLabels.get(i)).as("input " + names.get(i)).isEqualTo(caption);
        String expected = caption.equals("a red circle") ? "a red square" : caption;
        assertThat(outputLabels.get(i)).as("purified " + names.get(i)).isEqualTo(expected);
      }
    }
  }

  @Test
  void aMissingInputIsAOneLineErrorAndNothingIsWritten() {
    Path output = tmp.resolve("purified");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            tmp.resolve("nope.png").toString(),
            "--caption",
            "",
            "--output",
            output.toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("--input: no such file or folder").contains("nope.png");
    assertThat(err.toString().strip()).doesNotContain("\n");
    assertThat(output).doesNotExist();
  }

  @Test
  void aFileThatIsNotAnImageIsNamed() throws Exception {
    Path bad = Files.writeString(tmp.resolve("bad.png"), "not a png");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            bad.toString(),
            "--caption",
            "a red circle",
            "--output",
            tmp.resolve("purified").toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).startsWith("invalid input: ").contains("bad.png");
    assertThat(err.toString().strip()).doesNotContain("\n");
  }

  @Test
  void anImageOfASizeTheModelCannotTakeIsRefusedAndNothingIsWritten() throws Exception {
    // The toy VAE halves each side: 31 pixels cannot be encoded.
    Path odd = tmp.resolve("odd.png");
    ImageIO.write(new BufferedImage(31, 31, BufferedImage.TYPE_INT_RGB), "png", odd.toFile());
    Path output = tmp.resolve("purified");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            odd.toString(),
            "--caption",
            "a red circle",
            "--device",
            "cpu",
            "--output",
            output.toString());
    assertThat(code).as(err.toString()).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("odd.png: 31x31 pixels").contains("multiples of 2");
    assertThat(output).doesNotExist();
    try (var files = Files.list(tmp)) {
      assertThat(files).as("no staging folder left").containsExactly(odd);
    }
  }

  @Test
  void aNonEmptyOutputIsRefused() throws Exception {
    Path output = Files.createDirectories(tmp.resolve("purified"));
    Files.writeString(output.resolve("keep.txt"), "x");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            inputs.toString(),
            "--caption-files",
            "--output",
            output.toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("--output: exists and is not an empty folder");
    assertThat(output.resolve("keep.txt")).exists();
  }

  @Test
  void noCaptionIsRefusedRatherThanPurifyingOnTheEmptyPrompt() {
    Path output = tmp.resolve("purified");
    int code =
        run(
            "purify",
            "--model",
            MODEL.toString(),
            "--erased",
            erased.toString(),
            "--input",
            inputs.toString(),
            "--output",
            output.toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("--caption TEXT or --caption-files");
    assertThat(err.toString().strip()).doesNotContain("\n");
    assertThat(output).doesNotExist();
  }
}
