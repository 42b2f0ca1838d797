package io.concepterasure.trainer.toy;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.io.StateDictWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShapeClassifierTest {

  @Test
  void aShortTrainingLearnsShapesColoursAndNoneOnHeldOutImages(@TempDir Path dir) throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      ShapesDataset data = new ShapesDataset(1);
      ShapeClassifier classifier = new ShapeClassifier();
      classifier.initialize(manager, 3);
      ShapeClassifier.Accuracy before = classifier.heldOutAccuracy(manager, data, 200, 50);
      classifier.train(manager, data, 400, 48, 3e-3f, step -> {});
      ShapeClassifier.Accuracy after = classifier.heldOutAccuracy(manager, data, 200, 50);
      // Chance is 0.2 for both heads; a short run must be well past it.
      assertThat(after.shape())
          .as("shape accuracy after 400 steps (before %s)", before.shape())
          .isGreaterThan(0.6);
      assertThat(after.colour()).as("colour accuracy").isGreaterThan(0.8);
      assertThat(after.none()).as("none recall").isGreaterThan(0.6);
      ShapeClassifier.Accuracy look = classifier.heldOutAccuracy(manager, data, 200, 50, true);
      assertThat(look.shape()).as("shape accuracy on blurred, shaded images").isGreaterThan(0.6);
      assertThat(look.colour()).as("colour accuracy on blurred, shaded images").isGreaterThan(0.8);

      Path file = dir.resolve("classifier.safetensors");
      StateDictWriter.save(classifier, file);
      ShapeClassifier loaded = new ShapeClassifier();
      StateDictLoader.load(loaded, file, manager, DataType.FLOAT32);
      assertThat(loaded.heldOutAccuracy(manager, data, 200, 50)).isEqualTo(after);
    }
  }
}
