package io.concepterasure.trainer.toy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.optim.AdamOptimizer;
import io.concepterasure.trainer.toy.ShapesDataset.Colour;
import io.concepterasure.trainer.toy.ShapesDataset.Sample;
import io.concepterasure.trainer.toy.ShapesDataset.ShapeKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Judges generated toy images: which shape (or "none of these") and which colour. A small CNN
 * (three conv–group-norm–SiLU–max-pool stages, global average pool, two heads) trained on {@link
 * ShapesDataset}, with blobs, noise and empty images as the "none" class: without it, a classifier
 * calls a blob a circle and an erasure that only breaks images would look like a success.
 */
public final class ShapeClassifier extends Module {
  /** Index of "none of these" in the shape head. */
  public static final int NONE = ShapeKind.values().length;

  private final Conv2d conv1 = child("conv1", new Conv2d(3, 16, 3, 1, 1));
  private final GroupNorm norm1 = child("norm1", new GroupNorm(4, 16, 1e-5f));
  private final Conv2d conv2 = child("conv2", new Conv2d(16, 32, 3, 1, 1));
  private final GroupNorm norm2 = child("norm2", new GroupNorm(8, 32, 1e-5f));
  private final Conv2d conv3 = child("conv3", new Conv2d(32, 64, 3, 1, 1));
  private final GroupNorm norm3 = child("norm3", new GroupNorm(8, 64, 1e-5f));
  private final Linear hidden = child("hidden", new Linear(64, 64));
  private final Linear shapeHead = child("shape_head", new Linear(64, NONE + 1));
  private final Linear colourHead = child("colour_head", new Linear(64, Colour.values().length));

  /** Logits: [B, shapes + 1] and [B, colours], for images [B, 3, 32, 32] in [-1, 1]. */
  public NDList forward(NDArray images) {
    NDArray features = features(images);
    return new NDList(shapeHead.forward(features), colourHead.forward(features));
  }

  /**
   * The 64 features both heads read, [B, 64]: what a Fréchet distance between image sets compares.
   */
  public NDArray features(NDArray images) {
    NDArray x = stage(images, conv1, norm1);
    x = stage(x, conv2, norm2);
    x = stage(x, conv3, norm3);
    return Activations.silu(
        hidden.forward(
            x.reshape(x.getShape().get(0), x.getShape().get(1), -1).mean(new int[] {2})));
  }

  private static NDArray stage(NDArray x, Conv2d conv, GroupNorm norm) {
    NDArray y = Activations.silu(norm.forward(conv.forward(x)));
    return Pool.maxPool2d(y, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
  }

  /** One image's verdict: its shape, or null for "none of these", and its colour. */
  public record Verdict(ShapeKind shape, Colour colour, float shapeConfidence) {
    public String label() {
      return shape == null ? "none" : ShapesDataset.caption(shape, colour);
    }
  }

  public List<Verdict> classify(NDArray images) {
    try (NDScope scope = new NDScope()) {
      NDList logits = forward(images);
      NDArray shapeProbabilities = logits.get(0).softmax(1);
      long[] shapes = shapeProbabilities.argMax(1).toLongArray();
      float[] confidence = shapeProbabilities.max(new int[] {1}).toFloatArray();
      long[] colours = logits.get(1).argMax(1).toLongArray();
      List<Verdict> out = new ArrayList<>();
      for (int i = 0; i < shapes.length; i++) {
        ShapeKind shape = shapes[i] == NONE ? null : ShapeKind.values()[(int) shapes[i]];
        out.add(new Verdict(shape, Colour.values()[(int) colours[i]], confidence[i]));
      }
      return out;
    }
  }

  /**
   * The training batch of step {@code step}: shape images with one in four "none" images, about
   * half of each kind given the {@link GeneratorLook} (blurred, shaded, noised).
   */
  static List<Sample> trainingBatch(ShapesDataset data, int step, int batchSize) {
    List<Sample> batch = new ArrayList<>(batchSize);
    for (int i = 0; i < batchSize; i++) {
      long index = (long) step * batchSize + i;
      Sample clean = i % 4 == 3 ? data.none(index) : data.sample(index);
      Random look = new Random(index * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
      batch.add(
          look.nextBoolean()
              ? clean
              : new Sample(
                  GeneratorLook.apply(clean.pixels(), ShapesDataset.SIZE, look),
                  clean.shape(),
                  clean.colour(),
                  clean.caption()));
    }
    return batch;
  }

  /**
   * Trains this (initialised) classifier with Adam on fresh samples of {@code data}: cross-entropy
   * on the shape head for all images, on the colour head for shape images only.
   */
  public void train(
      NDManager manager,
      ShapesDataset data,
      int steps,
      int batchSize,
      float learningRate,
      IntConsumer afterStep) {
    Map<String, Parameter> parameters = namedParameters();
    parameters.values().forEach(p -> p.array().setRequiresGradient(true));
    AdamOptimizer optimizer = new AdamOptimizer(parameters, learningRate);
    try {
      for (int step = 0; step < steps; step++) {
        try (NDScope scope = new NDScope()) {
          List<Sample> batch = trainingBatch(data, step, batchSize);
          NDArray images = ShapesDataset.toBatch(manager, batch);
          float[] shapeTarget = new float[batchSize * (NONE + 1)];
          float[] colourTarget = new float[batchSize * Colour.values().length];
          float[] colourMask = new float[batchSize];
          for (int i = 0; i < batchSize; i++) {
            Sample s = batch.get(i);
            shapeTarget[i * (NONE + 1) + (s.shape() == null ? NONE : s.shape().ordinal())] = 1;
            if (s.colour() != null) {
              colourTarget[i * Colour.values().length + s.colour().ordinal()] = 1;
              colourMask[i] = 1;
            }
          }
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDList logits = forward(images);
            NDArray shapeLoss =
                logits
                    .get(0)
                    .logSoftmax(1)
                    .mul(Tensors.create(manager, shapeTarget, new Shape(batchSize, NONE + 1)))
                    .sum(new int[] {1})
                    .neg()
                    .mean();
            NDArray mask = Tensors.create(manager, colourMask);
            NDArray colourLoss =
                logits
                    .get(1)
                    .logSoftmax(1)
                    .mul(
                        Tensors.create(
                            manager, colourTarget, new Shape(batchSize, Colour.values().length)))
                    .sum(new int[] {1})
                    .neg()
                    .mul(mask)
                    .sum()
                    .div(Tensors.maximum(mask.sum(), 1f));
            collector.backward(shapeLoss.add(colourLoss));
          }
          optimizer.step();
        }
        afterStep.accept(step);
      }
    } finally {
      parameters.values().forEach(p -> p.array().setRequiresGradient(false));
      optimizer.close();
    }
  }

  /** Accuracies on held-out images (indices the training never draws). */
  public record Accuracy(
      double shape, double colour, double none, double joint, int shapeImages, int noneImages) {}

  public Accuracy heldOutAccuracy(
      NDManager manager, ShapesDataset data, int shapeImages, int noneImages) {
    return heldOutAccuracy(manager, data, shapeImages, noneImages, false);
  }

  /**
   * The same, with every held-out image given the {@link GeneratorLook} when {@code generatorLook}.
   */
  public Accuracy heldOutAccuracy(
      NDManager manager,
      ShapesDataset data,
      int shapeImages,
      int noneImages,
      boolean generatorLook) {
    int shapeRight = 0;
    int colourRight = 0;
    int jointRight = 0;
    int noneRight = 0;
    int chunk = 100;
    for (int start = 0; start < shapeImages; start += chunk) {
      List<Sample> samples = new ArrayList<>();
      for (int i = start; i < Math.min(shapeImages, start + chunk); i++) {
        samples.add(heldOut(data.sample(ShapesDataset.HELD_OUT_START + i), i, generatorLook));
      }
      try (NDManager m = manager.newSubManager()) {
        List<Verdict> verdicts = classify(ShapesDataset.toBatch(m, samples));
        for (int i = 0; i < samples.size(); i++) {
          boolean shape = verdicts.get(i).shape() == samples.get(i).shape();
          boolean colour = verdicts.get(i).colour() == samples.get(i).colour();
          shapeRight += shape ? 1 : 0;
          colourRight += colour ? 1 : 0;
          jointRight += shape && colour ? 1 : 0;
        }
      }
    }
    for (int start = 0; start < noneImages; start += chunk) {
      List<Sample> samples = new ArrayList<>();
      for (int i = start; i < Math.min(noneImages, start + chunk); i++) {
        samples.add(heldOut(data.none(ShapesDataset.HELD_OUT_START + i), i, generatorLook));
      }
      try (NDManager m = manager.newSubManager()) {
        for (Verdict v : classify(ShapesDataset.toBatch(m, samples))) {
          noneRight += v.shape() == null ? 1 : 0;
        }
      }
    }
    return new Accuracy(
        (double) shapeRight / shapeImages,
        (double) colourRight / shapeImages,
        (double) noneRight / noneImages,
        (double) jointRight / shapeImages,
        shapeImages,
        noneImages);
  }

  private static Sample heldOut(Sample clean, int i, boolean generatorLook) {
    if (!generatorLook) {
      return clean;
    }
    Random look = new Random(ShapesDataset.HELD_OUT_START + i * 31L);
    return new Sample(
        GeneratorLook.apply(clean.pixels(), ShapesDataset.SIZE, look),
        clean.shape(),
        clean.colour(),
        clean.caption());
  }
}
