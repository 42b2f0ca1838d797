package io.concepterasure.trainer.text;

import static io.concepterasure.trainer.ParityFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.ParityFixture;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CLIPTextModel against transformers: quick_gelu (sd1-tiny) and gelu (sd2-tiny). */
class CLIPTextModelParityTest {
  private static final List<String> PROMPTS =
      List.of("a photo of a cat", "", "An oil painting of a castle, in the style of Van Gogh!");

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void hiddenStatesEqualTransformers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager();
        ClipTokenizer tokenizer = ClipTokenizer.load(f.dir().resolve("tokenizer"))) {
      NDArray inputIds = f.tensor("text_encoder.input_ids", m);
      long[][] ids = PROMPTS.stream().map(tokenizer::encodePadded).toArray(long[][]::new);
      assertThat(Arrays.stream(ids).flatMapToLong(Arrays::stream).toArray())
          .containsExactly(inputIds.toLongArray());

      CLIPTextModel encoder =
          CLIPTextModel.load(
              f.dir().resolve("text_encoder/config.json"),
              f.dir().resolve("text_encoder/model.safetensors"),
              m,
              DataType.FLOAT32);
      CLIPTextModel.Output out =
          encoder.forward(
              m.create(
                  Arrays.stream(ids).flatMapToLong(Arrays::stream).toArray(),
                  new Shape(ids.length, ids[0].length)));
      float last = maxAbsDiff(out.lastHiddenState(), f.tensor("text_encoder.last_hidden_state", m));
      float pooled = maxAbsDiff(out.pooledOutput(), f.tensor("text_encoder.pooler_output", m));
      System.out.printf(
          "%s CLIPTextModel: last_hidden_state %.3g, pooler_output %.3g%n", model, last, pooled);
      assertThat(last).isLessThanOrEqualTo(1e-4f);
      assertThat(pooled).isLessThanOrEqualTo(1e-4f);
    }
  }
}
