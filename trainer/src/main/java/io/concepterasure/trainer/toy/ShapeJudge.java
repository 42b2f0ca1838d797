package io.concepterasure.trainer.toy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.evaluation.ImageJudge;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The shape classifier as an evaluation's judge: labels such as "red circle" or "none". The weights
 * are loaded for each call, into the images' own manager, so the judge holds no native memory
 * between evaluations (the classifier is small).
 */
public final class ShapeJudge implements ImageJudge {
  private final Path weights;

  public ShapeJudge(Path weights) {
    this.weights = weights;
  }

  @Override
  public int imageSize() {
    return ShapesDataset.SIZE;
  }

  @Override
  public List<String> labels(NDArray images) {
    try (NDManager scratch = images.getManager().newSubManager()) {
      ShapeClassifier classifier = new ShapeClassifier();
      StateDictLoader.load(classifier, weights, scratch, DataType.FLOAT32);
      // The classifier was trained on images in [-1, 1], the VAE's range.
      return classifier.classify(Tensors.sub(Tensors.mul(images, 2), 1)).stream()
          .map(ShapeClassifier.Verdict::label)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the classifier " + weights, e);
    }
  }

  @Override
  public String description() {
    return weights.toString();
  }
}
