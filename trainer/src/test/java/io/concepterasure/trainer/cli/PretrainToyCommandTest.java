package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import io.concepterasure.trainer.toy.ShapeClassifier;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code trainer pretrain-toy} for a few steps: the folder it writes is a Stable Diffusion model
 * our pipeline loads and draws 32×32 images with, and {@code trainer erase} runs on it. (The real
 * run, minutes of training, is a command for the lead; see docs/method.md.)
 */
class PretrainToyCommandTest {
  @TempDir Path tmp;

  @Test
  void aFewStepsGiveALoadableModelAndClassifierThatEraseRunsOn() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    Path model = tmp.resolve("toy");
    Path classifierFolder = tmp.resolve("classifier");
    int code =
        cli.execute(
            "pretrain-toy",
            "--output",
            model.toString(),
            "--classifier-output",
            classifierFolder.toString(),
            "--tokenizer",
            ParityFixture.root().resolve("tokenizer").toString(),
            "--vae-steps",
            "2",
            "--unet-steps",
            "2",
            "--classifier-steps",
            "2",
            "--batch-size",
            "4");
    assertThat(code).as(err.toString()).isZero();
    assertThat(err.toString())
        .contains("vae step 2/2 loss", "unet step 2/2 loss", "classifier step 2/2");
    assertThat(out.toString()).contains("classifier held-out accuracy: shape");
    assertThat(tmp.resolve("toy.partial")).doesNotExist();

    JsonNode vae = new ObjectMapper().readTree(model.resolve("vae/config.json").toFile());
    assertThat(vae.get("scaling_factor").asDouble()).isPositive().isNotEqualTo(0.18215);
    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline pipeline =
            StableDiffusionPipeline.load(model, manager, DataType.FLOAT32)) {
      assertThat(pipeline.defaultImageSize()).isEqualTo(32);
      NDArray images =
          pipeline.generate(manager, List.of("a red circle"), new long[] {1}, 32, 32, 3, 3f);
      assertThat(images.getShape().getShape()).containsExactly(1, 3, 32, 32);

      ShapeClassifier classifier = new ShapeClassifier();
      StateDictLoader.load(
          classifier,
          classifierFolder.resolve("classifier.safetensors"),
          manager,
          DataType.FLOAT32);
      assertThat(classifier.classify(images.mul(2).sub(1))).hasSize(1);
    }
    JsonNode accuracy =
        new ObjectMapper().readTree(classifierFolder.resolve("accuracy.json").toFile());
    assertThat(accuracy.at("/heldOut/shapeImages").asInt()).isEqualTo(2000);

    int erase =
        cli.execute(
            "erase",
            "--model",
            model.toString(),
            "--output",
            tmp.resolve("erased").toString(),
            "--concept",
            "a red circle=a red square",
            "--iterations",
            "2",
            "--learning-rate",
            "1e-4",
            "--ddim-steps",
            "3",
            "--classifier",
            classifierFolder.resolve("classifier.safetensors").toString(),
            "--eval-seed",
            "1",
            "--eval-seed",
            "2");
    assertThat(erase).as(err.toString()).isZero();
    JsonNode record = new ObjectMapper().readTree(tmp.resolve("erased/erasure.json").toFile());
    JsonNode circle = record.at("/evaluation/perPrompt/a red circle");
    assertThat(circle.get("ssim").asDouble()).isBetween(-1.0, 1.0);
    int judged = 0;
    for (JsonNode count : circle.get("classifiedErased")) {
      judged += count.asInt();
    }
    assertThat(judged).as("both seeds judged").isEqualTo(2);
  }
}
