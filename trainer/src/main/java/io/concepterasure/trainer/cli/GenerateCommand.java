package io.concepterasure.trainer.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.device.DeviceChoice;
import io.concepterasure.trainer.diffusion.InvalidModelFolderException;
import io.concepterasure.trainer.evaluation.ImageJudge;
import io.concepterasure.trainer.hub.HubClient;
import io.concepterasure.trainer.io.SafetensorsException;
import io.concepterasure.trainer.job.ModelFetcher;
import io.concepterasure.trainer.job.RequestStorage;
import io.concepterasure.trainer.pipeline.ImageGrid;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import io.concepterasure.trainer.storage.InvalidStorageUriException;
import io.concepterasure.trainer.storage.StorageException;
import io.concepterasure.trainer.storage.StorageUri;
import io.concepterasure.trainer.toy.ShapeJudge;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer generate}: text to image with a diffusers Stable Diffusion folder, DDIM and
 * classifier-free guidance. Several prompts or seeds give a grid, one row per prompt and one column
 * per seed.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Generates images from text prompts and writes them as one PNG (a grid for several prompts or seeds).",
      "Seeds drive Java's own generator: the same seed gives the same image here, not the image torch gives."
    })
public final class GenerateCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description =
          "diffusers Stable Diffusion folder (with model_index.json), or hf://org/name[@revision]"
              + " or s3://bucket/prefix, downloaded first to $CE_SCRATCH_DIR (default: a temporary"
              + " folder); Hub token and endpoint from $HF_TOKEN and $HF_ENDPOINT, S3 credentials"
              + " as the AWS SDK finds them, or files of those names in $CE_MODEL_CREDENTIALS_DIR")
  String model;

  @Option(
      names = "--prompt",
      required = true,
      description = "text prompt; repeat for a grid row per prompt")
  List<String> prompts;

  @Option(
      names = "--seed",
      description = "noise seed; repeat for a grid column per seed (default: ${DEFAULT-VALUE})",
      defaultValue = "0")
  List<Long> seeds;

  @Option(
      names = "--steps",
      defaultValue = "50",
      description = "DDIM steps (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(
      names = "--guidance",
      defaultValue = "7.5",
      description =
          "classifier-free guidance scale; 1 or less turns guidance off (default: ${DEFAULT-VALUE})")
  float guidance;

  @Option(names = "--height", description = "image height in pixels (default: the model's)")
  Integer height;

  @Option(names = "--width", description = "image width in pixels (default: the model's)")
  Integer width;

  @Option(
      names = "--device",
      defaultValue = "${env:CE_DEVICE:-auto}",
      description = "auto, cpu, cuda or cuda:N (default: $CE_DEVICE or auto)")
  String device;

  @Option(names = "--output", required = true, description = "PNG file to write")
  Path out;

  @Option(
      names = "--classifier",
      description =
          "the toy world's shape classifier (classifier.safetensors): also print what it sees in each image, one line per image: label, prompt, seed")
  Path classifier;

  /** The process environment; tests give their own. */
  Map<String, String> environment = System.getenv();

  /** How hard to retry the Hugging Face Hub; tests give a faster one. */
  HubClient.Retry hubRetry = HubClient.Retry.DEFAULT;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    if (steps < 1) {
      return invalid(err, "--steps must be at least 1, got " + steps);
    }
    if ((height != null && (height < 8 || height % 8 != 0))
        || (width != null && (width < 8 || width % 8 != 0))) {
      return invalid(
          err,
          "--height and --width must be positive multiples of 8, got " + height + ", " + width);
    }
    if (classifier != null && !Files.isRegularFile(classifier)) {
      return invalid(err, "--classifier: no such file: " + classifier);
    }
    ImageJudge judge = classifier == null ? null : new ShapeJudge(classifier);
    StorageUri uri;
    try {
      uri = StorageUri.parse(model);
    } catch (InvalidStorageUriException e) {
      return invalid(err, "--model: " + e.getMessage());
    }
    if (uri.scheme() != StorageUri.Scheme.S3 && uri.scheme() != StorageUri.Scheme.HUGGING_FACE) {
      Path folder = uri.scheme() == StorageUri.Scheme.FILE ? uri.localPath(Path.of("/")) : null;
      if (folder == null || !Files.isDirectory(folder)) {
        return invalid(err, "--model: no such folder: " + model);
      }
      return generate(folder, err, judge);
    }
    String configured = environment.get(RequestStorage.ENV_SCRATCH_DIR);
    boolean ownScratch = configured == null || configured.isBlank();
    Path scratch = null;
    Path folder = null;
    try {
      scratch =
          ownScratch
              ? Files.createTempDirectory("generate-")
              : Files.createDirectories(Path.of(configured));
      folder = Files.createTempDirectory(scratch, "model-");
      String credentials = environment.get(RequestStorage.ENV_MODEL_CREDENTIALS_DIR);
      new ModelFetcher(environment, hubRetry, err)
          .fetch(
              uri,
              folder,
              scratch,
              credentials == null || credentials.isBlank() ? null : Path.of(credentials),
              Path.of(environment.getOrDefault(RequestStorage.ENV_PVC_ROOT, "/mnt/pvc")));
      return generate(folder, err, judge);
    } catch (StorageException e) {
      err.println("--model: " + e.getMessage());
      return e.invalidInput() ? EraseCommand.INVALID_INPUT : EraseCommand.TRANSIENT_FAILURE;
    } catch (IOException e) {
      err.println("transient failure: " + e.getMessage());
      return EraseCommand.TRANSIENT_FAILURE;
    } finally {
      deleteQuietly(ownScratch ? scratch : folder, err);
    }
  }

  private int generate(Path folder, PrintWriter err, ImageJudge judge) {
    long[] seedArray = seeds.stream().mapToLong(Long::longValue).toArray();
    DeviceChoice chosen;
    try {
      chosen = DeviceChoice.choose(device, System.getenv());
    } catch (DeviceChoice.UnavailableException e) {
      return invalid(err, e.getMessage());
    }
    try (NDManager manager = NDManager.newBaseManager(chosen.device());
        StableDiffusionPipeline pipeline =
            StableDiffusionPipeline.load(folder, manager, DataType.FLOAT32)) {
      int h = height != null ? height : pipeline.defaultImageSize();
      int w = width != null ? width : pipeline.defaultImageSize();
      if (judge != null && (h != judge.imageSize() || w != judge.imageSize())) {
        // Refused before any image is made.
        throw new IllegalArgumentException(
            "--classifier judges "
                + judge.imageSize()
                + "-pixel images, these would be "
                + w
                + "x"
                + h);
      }
      NDArray images = pipeline.generate(manager, prompts, seedArray, h, w, steps, guidance);
      List<BufferedImage> pictures = ImageGrid.toImages(images);
      ImageGrid.writePng(ImageGrid.grid(pictures, seedArray.length), out);
      spec.commandLine()
          .getOut()
          .printf("wrote %d image(s), %dx%d each, to %s%n", pictures.size(), w, h, out);
      if (judge != null) {
        printJudgement(judge, images, seedArray);
      }
      return 0;
    } catch (InvalidModelFolderException | SafetensorsException | IllegalArgumentException e) {
      // A broken model folder or a config/prompt the model cannot take: the same on every try.
      return invalid(err, "invalid input: " + e.getMessage());
    } catch (IOException | UncheckedIOException e) {
      err.println("transient failure: " + e.getMessage());
      return EraseCommand.TRANSIENT_FAILURE;
    }
  }

  /** The downloaded model is scratch: removed whatever happened. */
  private static void deleteQuietly(Path root, PrintWriter err) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      err.println("warning: cannot remove " + root + ": " + e.getMessage());
    }
  }

  private static int invalid(PrintWriter err, String message) {
    err.println(message);
    return EraseCommand.INVALID_INPUT;
  }

  /** Images come prompt-major (one row per prompt, one column per seed), as the grid shows them. */
  private void printJudgement(ImageJudge judge, NDArray images, long[] seedArray) {
    List<String> labels = judge.labels(images);
    for (int i = 0; i < labels.size(); i++) {
      spec.commandLine()
          .getOut()
          .printf(
              "%s\t%s\t%d%n",
              labels.get(i), prompts.get(i / seedArray.length), seedArray[i % seedArray.length]);
    }
  }
}
