package io.concepterasure.trainer.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.evaluation.ImageSimilarity;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.pipeline.ImageGrid;
import io.concepterasure.trainer.pipeline.Purification;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import io.concepterasure.trainer.toy.ShapeJudge;
import io.concepterasure.trainer.toy.ShapesDataset;
import io.concepterasure.trainer.toy.ShapesDataset.Colour;
import io.concepterasure.trainer.toy.ShapesDataset.ShapeKind;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer bench-purification}: purification (docs/method.md) measured on the toy world.
 * Images of every shape and colour (drawn by the original model, or the dataset's held-out real
 * images) are purified by a circle→square erased model, and by the original UNet as a control (what
 * inversion and regeneration alone change); the shape classifier judges inputs and outputs.
 */
@Command(
    name = "bench-purification",
    mixinStandardHelpOptions = true,
    description = {
      "Purifies toy images of every shape and colour with a circle->square erased model and reports:",
      "circles that became a square of their colour, other images that kept their label, SSIM to the input.",
      "Only inputs the classifier judges as their caption say are counted."
    })
public final class BenchPurificationCommand implements Callable<Integer> {
  private static final int CHUNK = 50;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      defaultValue = "examples/models/toy-shapes",
      description = "the original toy model (default: ${DEFAULT-VALUE})")
  Path model;

  @Option(
      names = "--erased",
      required = true,
      description = "a `trainer erase` output of the toy model that erased circle -> square")
  Path erased;

  @Option(
      names = "--classifier",
      defaultValue = "examples/models/shape-classifier/classifier.safetensors",
      description = "the toy world's shape classifier (default: ${DEFAULT-VALUE})")
  Path classifier;

  @Option(
      names = "--source",
      defaultValue = "generated",
      description =
          "generated: drawn by the original model from their captions; dataset: the toy data set's held-out images (default: ${DEFAULT-VALUE})")
  String source;

  @Option(
      names = "--first-seed",
      defaultValue = "0",
      description =
          "seeds (generated) or held-out indices (dataset) start here; tune on others than you report (default: ${DEFAULT-VALUE})")
  long firstSeed;

  @Option(
      names = "--images-per-caption",
      defaultValue = "20",
      description = "images of each of the 20 captions (default: ${DEFAULT-VALUE})")
  int perCaption;

  @Option(
      names = "--steps",
      defaultValue = "10",
      split = ",",
      description =
          "purification's DDIM steps; several (comma-separated) give a row each (default: ${DEFAULT-VALUE})")
  List<Integer> steps;

  @Option(
      names = "--guidance",
      defaultValue = "5",
      split = ",",
      description =
          "purification's regeneration guidance; several give a row each (default: ${DEFAULT-VALUE})")
  List<Float> guidance;

  @Option(
      names = "--empty-caption",
      description = "invert and regenerate on the empty prompt instead of each image's caption")
  boolean emptyCaption;

  @Option(
      names = "--generate-steps",
      defaultValue = "20",
      description = "DDIM steps that draw the generated inputs (default: ${DEFAULT-VALUE})")
  int generateSteps;

  @Option(
      names = "--generate-guidance",
      defaultValue = "3",
      description = "guidance that draws the generated inputs (default: ${DEFAULT-VALUE})")
  float generateGuidance;

  @Option(names = "--grid", description = "write inputs | erased | control as one PNG here")
  Path grid;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!source.equals("generated") && !source.equals("dataset")) {
      spec.commandLine().getErr().println("--source must be generated or dataset, got " + source);
      return EraseCommand.INVALID_INPUT;
    }
    ShapeJudge judge = new ShapeJudge(classifier);
    List<String> captions = new ArrayList<>();
    for (ShapeKind shape : ShapeKind.values()) {
      for (Colour colour : Colour.values()) {
        captions.add(ShapesDataset.caption(shape, colour));
      }
    }
    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline pipeline =
            StableDiffusionPipeline.load(model, manager, DataType.FLOAT32)) {
      UNet2DConditionModel erasedUNet =
          StableDiffusionPipeline.loadUNet(erased, manager, DataType.FLOAT32);
      // Inputs caption-major: image i has caption i / perCaption.
      NDArray inputs = quantised(manager, inputs(manager, pipeline, captions));
      List<String> inputLabels = judge.labels(inputs);
      List<String> imageCaptions = new ArrayList<>();
      for (String c : captions) {
        for (int k = 0; k < perCaption; k++) {
          imageCaptions.add(emptyCaption ? "" : c);
        }
      }
      out.printf(
          "%s inputs, %d per caption from %d; purification on %s%n",
          source,
          perCaption,
          firstSeed,
          emptyCaption ? "the empty prompt" : "each image's caption");
      out.println();
      out.println(
          "| UNet | steps | guidance | circle → square of its colour | still circle | none | others keep shape and colour | SSIM circles | SSIM others |");
      out.println("|---|---|---|---|---|---|---|---|---|");
      NDList shown = new NDList(inputs);
      Tally counted = null;
      for (int s : steps) {
        for (float g : guidance) {
          NDArray purified =
              purifyAll(
                  manager, new Purification(pipeline, erasedUNet, s, g), inputs, imageCaptions);
          NDArray control =
              purifyAll(
                  manager,
                  new Purification(pipeline, pipeline.unet(), s, g),
                  inputs,
                  imageCaptions);
          counted = tally(captions, inputLabels, inputs, purified, judge);
          counted.row(out, "erased", s, g);
          tally(captions, inputLabels, inputs, control, judge).row(out, "original (control)", s, g);
          out.flush();
          shown.add(purified);
          shown.add(control);
        }
      }
      out.printf(
          "%ninputs judged as their caption (the only ones counted): circles %d of %d, others %d of %d%n",
          counted.circles, 5 * perCaption, counted.others, 15 * perCaption);
      if (grid != null) {
        ImageGrid.writePng(
            ImageGrid.grid(ImageGrid.toImages(NDArrays.concat(shown, 0)), perCaption), grid);
        out.println(
            "grid in "
                + grid
                + ": inputs, then erased and control for each setting; a row per caption");
      }
      out.flush();
      return 0;
    }
  }

  private NDArray inputs(
      NDManager manager, StableDiffusionPipeline pipeline, List<String> captions) {
    if (source.equals("generated")) {
      long[] seeds = new long[perCaption];
      for (int k = 0; k < perCaption; k++) {
        seeds[k] = firstSeed + k;
      }
      int size = pipeline.defaultImageSize();
      return pipeline.generate(
          manager, captions, seeds, size, size, generateSteps, generateGuidance);
    }
    // Held-out indices: images the toy model never saw in training.
    ShapesDataset data = new ShapesDataset(0);
    List<ShapesDataset.Sample> samples = new ArrayList<>();
    for (ShapeKind shape : ShapeKind.values()) {
      for (Colour colour : Colour.values()) {
        for (int k = 0; k < perCaption; k++) {
          samples.add(data.sample(ShapesDataset.HELD_OUT_START + firstSeed + k, shape, colour));
        }
      }
    }
    NDArray batch = ShapesDataset.toBatch(manager, samples);
    return Tensors.div(Tensors.add(batch, 1f), 2f);
  }

  /** What `trainer purify` would read back from a PNG: 8-bit values. */
  private static NDArray quantised(NDManager manager, NDArray images) {
    return ImageGrid.fromImages(manager, ImageGrid.toImages(images));
  }

  private static NDArray purifyAll(
      NDManager manager, Purification purification, NDArray images, List<String> captions) {
    long n = images.getShape().get(0);
    NDList parts = new NDList();
    for (long i = 0; i < n; i += CHUNK) {
      long end = Math.min(n, i + CHUNK);
      parts.add(
          purification.purify(
              manager,
              images.get(new NDIndex("{}:{}", i, end)),
              captions.subList((int) i, (int) end)));
    }
    return quantised(manager, NDArrays.concat(parts, 0));
  }

  private Tally tally(
      List<String> captions,
      List<String> inputLabels,
      NDArray inputs,
      NDArray outputs,
      ShapeJudge judge) {
    List<String> outputLabels = judge.labels(outputs);
    Shape shape = inputs.getShape();
    int h = (int) shape.get(2);
    int w = (int) shape.get(3);
    float[] a = inputs.toFloatArray();
    float[] b = outputs.toFloatArray();
    int each = 3 * h * w;
    Tally t = new Tally();
    for (int i = 0; i < inputLabels.size(); i++) {
      // The classifier's labels are captions ("a red circle") or "none".
      String expected = captions.get(i / perCaption);
      if (!inputLabels.get(i).equals(expected)) {
        continue;
      }
      double ssim =
          ImageSimilarity.ssim(
              java.util.Arrays.copyOfRange(a, i * each, (i + 1) * each),
              java.util.Arrays.copyOfRange(b, i * each, (i + 1) * each),
              h,
              w);
      String label = outputLabels.get(i);
      if (expected.endsWith(" circle")) {
        t.circles++;
        t.circleSsim += ssim;
        t.becameSquare += label.equals(expected.replace(" circle", " square")) ? 1 : 0;
        t.stillCircle += label.endsWith(" circle") ? 1 : 0;
        t.circleNone += label.equals("none") ? 1 : 0;
      } else {
        t.others++;
        t.otherSsim += ssim;
        t.othersKept += label.equals(expected) ? 1 : 0;
      }
    }
    return t;
  }

  private static final class Tally {
    int circles;
    int becameSquare;
    int stillCircle;
    int circleNone;
    double circleSsim;
    int others;
    int othersKept;
    double otherSsim;

    void row(PrintWriter out, String name, int steps, float guidance) {
      out.printf(
          "| %s | %d | %s | %s | %s | %s | %s | %.3f | %.3f |%n",
          name,
          steps,
          guidance,
          share(becameSquare, circles),
          share(stillCircle, circles),
          share(circleNone, circles),
          share(othersKept, others),
          circleSsim / Math.max(1, circles),
          otherSsim / Math.max(1, others));
    }

    private static String share(int count, int total) {
      return String.format("%.1f%% (%d/%d)", 100.0 * count / Math.max(1, total), count, total);
    }
  }
}
