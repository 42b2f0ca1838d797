package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.trainer.ParityFixture;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code trainer generate} end to end on the tiny SD 1.x fixture folder. */
class GenerateCommandTest {
  @TempDir Path tmp;

  private static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void writesAGridWithARowPerPromptAndAColumnPerSeed() throws Exception {
    Path png = tmp.resolve("out/grid.png");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        run(
            out,
            err,
            "generate",
            "--model",
            ParityFixture.root().resolve("sd1-tiny").toString(),
            "--prompt",
            "a photo of a cat",
            "--prompt",
            "an oil painting of a castle",
            "--seed",
            "1",
            "--seed",
            "2",
            "--steps",
            "3",
            "--guidance",
            "7.5",
            "--output",
            png.toString());
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("wrote 4 image(s), 32x32 each");

    BufferedImage grid = ImageIO.read(png.toFile());
    assertThat(grid).isNotNull();
    assertThat(grid.getWidth()).isEqualTo(64);
    assertThat(grid.getHeight()).isEqualTo(64);
    // Different seeds and different prompts must give different pictures.
    assertThat(tile(grid, 0, 0)).isNotEqualTo(tile(grid, 0, 1));
    assertThat(tile(grid, 0, 0)).isNotEqualTo(tile(grid, 1, 0));
    try (var files = Files.list(png.getParent())) {
      assertThat(files).containsExactly(png);
    }
  }

  @Test
  void sameSeedGivesTheSameImage() throws Exception {
    String model = ParityFixture.root().resolve("sd1-tiny").toString();
    Path a = tmp.resolve("a.png");
    Path b = tmp.resolve("b.png");
    for (Path p : new Path[] {a, b}) {
      int code =
          run(
              new StringWriter(),
              new StringWriter(),
              "generate",
              "--model",
              model,
              "--prompt",
              "a cat",
              "--seed",
              "7",
              "--steps",
              "2",
              "--output",
              p.toString());
      assertThat(code).isZero();
    }
    assertThat(tile(ImageIO.read(a.toFile()), 0, 0))
        .isEqualTo(tile(ImageIO.read(b.toFile()), 0, 0));
  }

  @Test
  void theToyClassifierSaysWhatEachImageShows() throws Exception {
    Path root = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        run(
            out,
            err,
            "generate",
            "--model",
            root.resolve("examples/models/toy-shapes").toString(),
            "--prompt",
            "a red circle",
            "--prompt",
            "a blue square",
            "--seed",
            "0",
            "--seed",
            "1",
            "--steps",
            "20",
            "--guidance",
            "3",
            "--classifier",
            root.resolve("examples/models/shape-classifier/classifier.safetensors").toString(),
            "--output",
            tmp.resolve("toy.png").toString());
    assertThat(code).as(err.toString()).isZero();
    // One line per image, prompt by prompt: what the pretrained toy model draws for its captions.
    assertThat(out.toString().lines().filter(l -> l.contains("\t")).toList())
        .containsExactly(
            "a red circle\ta red circle\t0",
            "a red circle\ta red circle\t1",
            "a blue square\ta blue square\t0",
            "a blue square\ta blue square\t1");
  }

  @Test
  void missingModelFolderIsAClearError() {
    StringWriter err = new StringWriter();
    int code =
        run(
            new StringWriter(),
            err,
            "generate",
            "--model",
            tmp.resolve("nope").toString(),
            "--prompt",
            "x",
            "--output",
            tmp.resolve("x.png").toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("--model: no such folder");
    assertThat(err.toString().strip()).doesNotContain("\n");
    assertThat(tmp.resolve("x.png")).doesNotExist();
  }

  @Test
  void aBrokenModelFolderIsAOneLineErrorWithExitCode2() throws Exception {
    // A folder that is not a diffusers pipeline: the loader's error, one line, no stack trace.
    Path broken = Files.createDirectories(tmp.resolve("broken"));
    Files.writeString(broken.resolve("model_index.json"), "{\"unet\": [\"diffusers\", ");
    StringWriter err = new StringWriter();
    int code =
        run(
            new StringWriter(),
            err,
            "generate",
            "--model",
            broken.toString(),
            "--prompt",
            "x",
            "--output",
            tmp.resolve("x.png").toString());
    assertThat(code).as(err.toString()).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).startsWith("invalid input: ").doesNotContain("\tat ");
    assertThat(err.toString().strip()).doesNotContain("\n");
    assertThat(tmp.resolve("x.png")).doesNotExist();
  }

  @Test
  void anImageSizeTheVaeCannotTakeIsRefused() {
    StringWriter err = new StringWriter();
    int code =
        run(
            new StringWriter(),
            err,
            "generate",
            "--model",
            ParityFixture.root().resolve("sd1-tiny").toString(),
            "--prompt",
            "x",
            "--height",
            "30",
            "--output",
            tmp.resolve("x.png").toString());
    assertThat(code).isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(err.toString()).contains("--height and --width must be positive multiples of 8");
  }

  private static int[] tile(BufferedImage grid, int row, int col) {
    return grid.getRGB(col * 32, row * 32, 32, 32, null, 0, 32);
  }
}
