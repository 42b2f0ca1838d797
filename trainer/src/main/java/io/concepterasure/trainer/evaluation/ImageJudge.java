package io.concepterasure.trainer.evaluation;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Names what each image shows, so that an evaluation can count how often the erased concept still
 * appears. The toy world plugs its shape classifier in here; the evaluation knows no model of its
 * own.
 */
public interface ImageJudge {

  /** The side, in pixels, of the square images it judges. */
  int imageSize();

  /** One label per image of {@code images} ([N, 3, H, W], values in [0, 1]). */
  List<String> labels(NDArray images);

  /** What erasure.json records about the judge (e.g. its weights file). */
  String description();
}
