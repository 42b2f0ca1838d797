package io.concepterasure.trainer.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.device.DeviceChoice;
import io.concepterasure.trainer.diffusion.InvalidModelFolderException;
import io.concepterasure.trainer.io.SafetensorsException;
import io.concepterasure.trainer.pipeline.ImageGrid;
import io.concepterasure.trainer.pipeline.Purification;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer purify}: real images through an erased model (docs/method.md, "Purification").
 * Everything is read and checked before the models load; the purified images are written to a
 * temporary folder beside {@code --output} and moved into place when all are there.
 */
@Command(
    name = "purify",
    mixinStandardHelpOptions = true,
    description = {
      "Purifies PNG images: DDIM-inverts each with the original model on its caption (--caption or",
      "--caption-files) and regenerates it from that noise with the erased model's UNet on the same caption.",
      "Writes one PNG per input, of the same name, to --output. Exit codes: 0 success, 2 invalid input,",
      "3 transient failure."
    })
public final class PurifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description =
          "the original diffusers Stable Diffusion folder (the images are inverted with it)")
  Path model;

  @Option(
      names = "--erased",
      required = true,
      description =
          "the erased model: a `trainer erase` output folder (a diffusers folder); only its UNet is used")
  Path erased;

  @Option(
      names = "--input",
      required = true,
      description = "a PNG file, or a folder whose *.png files are all taken; repeat for several")
  List<Path> inputs;

  @Option(
      names = "--caption",
      description =
          "the caption of every image; \"\" for the empty prompt, on which an All but One erasure gives images back unchanged (it holds the empty prompt in place)")
  String caption;

  @Option(
      names = "--caption-files",
      description =
          "each image's caption is the text of the .txt file beside it of the same name (x.png: x.txt)")
  boolean captionFiles;

  @Option(
      names = "--steps",
      defaultValue = "10",
      description =
          "DDIM steps of the inversion and of the regeneration (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(
      names = "--guidance",
      defaultValue = "5",
      description =
          "classifier-free guidance of the regeneration (1 or less turns it off); higher replaces the erased concept more surely and keeps less of the input (docs/method.md, \"Purification\"; default: ${DEFAULT-VALUE})")
  float guidance;

  @Option(
      names = "--batch",
      defaultValue = "16",
      description = "images purified together (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(
      names = "--device",
      defaultValue = "${env:CE_DEVICE:-auto}",
      description = "auto, cpu, cuda or cuda:N (default: $CE_DEVICE or auto)")
  String device;

  @Option(
      names = "--output",
      required = true,
      description = "folder to write the purified PNGs to; must not exist or be empty")
  Path output;

  /** An input image, read and captioned. */
  record Input(Path file, BufferedImage image, String caption) {}

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    try {
      if (!Files.isDirectory(model)) {
        throw new InvalidInputException("--model: no such folder: " + model);
      }
      if (!Files.isDirectory(erased)) {
        throw new InvalidInputException("--erased: no such folder: " + erased);
      }
      if (caption != null && captionFiles) {
        throw new InvalidInputException("--caption and --caption-files exclude each other");
      }
      if (caption == null && !captionFiles) {
        // Not a silent default: on "" the erased UNet predicts what the original does, and the
        // images come back unchanged (docs/benchmarks.md, "Purification").
        throw new InvalidInputException(
            "give each image's caption: --caption TEXT or --caption-files (--caption \"\" for the"
                + " empty prompt)");
      }
      if (steps < 1) {
        throw new InvalidInputException("--steps must be at least 1, got " + steps);
      }
      if (batch < 1) {
        throw new InvalidInputException("--batch must be at least 1, got " + batch);
      }
      if (Files.exists(output) && !isEmptyFolder(output)) {
        throw new InvalidInputException("--output: exists and is not an empty folder: " + output);
      }
      List<Input> images = readInputs();
      DeviceChoice chosen = DeviceChoice.choose(device, System.getenv());
      try (NDManager manager = NDManager.newBaseManager(chosen.device());
          StableDiffusionPipeline pipeline =
              StableDiffusionPipeline.load(model, manager, DataType.FLOAT32)) {
        int scale = pipeline.vae().scaleFactor();
        for (Input input : images) {
          int w = input.image().getWidth();
          int h = input.image().getHeight();
          if (w % scale != 0 || h % scale != 0) {
            throw new InvalidInputException(
                input.file()
                    + ": "
                    + w
                    + "x"
                    + h
                    + " pixels; this model takes sides that are multiples of "
                    + scale);
          }
        }
        Purification purification =
            new Purification(
                pipeline,
                StableDiffusionPipeline.loadUNet(erased, manager, DataType.FLOAT32),
                steps,
                guidance);
        Path staging = stagingFolder();
        try {
          for (List<Input> group : batches(images)) {
            try (NDManager scratch = manager.newSubManager()) {
              NDArray purified =
                  purification.purify(
                      scratch,
                      ImageGrid.fromImages(scratch, group.stream().map(Input::image).toList()),
                      group.stream().map(Input::caption).toList());
              List<BufferedImage> pictures = ImageGrid.toImages(purified);
              for (int i = 0; i < group.size(); i++) {
                Path name = group.get(i).file().getFileName();
                ImageIO.write(pictures.get(i), "png", staging.resolve(name).toFile());
                out.printf("purified %s%n", group.get(i).file());
              }
            }
          }
          Files.deleteIfExists(output);
          Files.move(staging, output, StandardCopyOption.ATOMIC_MOVE);
        } finally {
          deleteTree(staging);
        }
        out.printf("wrote %d purified image(s) to %s%n", images.size(), output);
        return 0;
      }
    } catch (InvalidInputException
        | DeviceChoice.UnavailableException
        | InvalidModelFolderException
        | SafetensorsException
        | IllegalArgumentException e) {
      // The same on every try: a missing file, an image the model cannot take, a broken folder.
      err.println("invalid input: " + e.getMessage());
      return EraseCommand.INVALID_INPUT;
    } catch (IOException | UncheckedIOException e) {
      err.println("transient failure: " + e.getMessage());
      return EraseCommand.TRANSIENT_FAILURE;
    }
  }

  /** A refusal of the command line or of an input file, named in the message. */
  static final class InvalidInputException extends Exception {
    InvalidInputException(String message) {
      super(message);
    }
  }

  private List<Input> readInputs() throws InvalidInputException, IOException {
    List<Path> files = new ArrayList<>();
    for (Path in : inputs) {
      if (Files.isDirectory(in)) {
        try (Stream<Path> list = Files.list(in)) {
          List<Path> pngs =
              list.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
                  .sorted()
                  .toList();
          if (pngs.isEmpty()) {
            throw new InvalidInputException("--input: no .png file in the folder " + in);
          }
          files.addAll(pngs);
        }
      } else if (Files.isRegularFile(in)) {
        files.add(in);
      } else {
        throw new InvalidInputException("--input: no such file or folder: " + in);
      }
    }
    Set<Path> names = new HashSet<>();
    List<Input> images = new ArrayList<>();
    for (Path file : files) {
      // Each output is named after its input: two inputs of one name would overwrite each other.
      if (!names.add(file.getFileName())) {
        throw new InvalidInputException("--input: two images are named " + file.getFileName());
      }
      BufferedImage image;
      try {
        image = ImageIO.read(file.toFile());
      } catch (IOException e) {
        throw new InvalidInputException(file + ": not a readable image (" + e.getMessage() + ")");
      }
      if (image == null) {
        throw new InvalidInputException(file + ": not a PNG image");
      }
      images.add(new Input(file, image, captionOf(file)));
    }
    return images;
  }

  private String captionOf(Path image) throws InvalidInputException, IOException {
    if (!captionFiles) {
      return caption;
    }
    String name = image.getFileName().toString();
    Path text = image.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".txt");
    if (!Files.isRegularFile(text)) {
      throw new InvalidInputException(image + ": no caption file " + text);
    }
    return Files.readString(text, StandardCharsets.UTF_8).strip();
  }

  /** Images of one size together, in input order within each size, at most --batch at a time. */
  private List<List<Input>> batches(List<Input> images) {
    Map<String, List<Input>> bySize = new LinkedHashMap<>();
    for (Input input : images) {
      String size = input.image().getWidth() + "x" + input.image().getHeight();
      bySize.computeIfAbsent(size, k -> new ArrayList<>()).add(input);
    }
    List<List<Input>> out = new ArrayList<>();
    for (List<Input> same : bySize.values()) {
      for (int i = 0; i < same.size(); i += batch) {
        out.add(same.subList(i, Math.min(same.size(), i + batch)));
      }
    }
    return out;
  }

  private Path stagingFolder() throws IOException {
    Path target = output.toAbsolutePath().normalize();
    Files.createDirectories(target.getParent());
    return Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".");
  }

  private static boolean isEmptyFolder(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      return false;
    }
    try (Stream<Path> list = Files.list(folder)) {
      return list.findAny().isEmpty();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
