package io.concepterasure.trainer.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Token ids equal transformers' CLIPTokenizer on every prompt of the fixture corpus, for Stable
 * Diffusion 1's pad token ({@code <|endoftext|>}) and 2's ({@code !}), padded and unpadded; and for
 * the tokenizer.json alone that transformers 5 saves (sd1-tiny-current).
 */
class ClipTokenizerParityTest {
  private static JsonNode tokens;
  private static ClipTokenizer sd1;
  private static ClipTokenizer sd2;
  private static ClipTokenizer sd1Saved;

  @BeforeAll
  static void load() throws IOException {
    Path root = ParityFixture.root();
    tokens =
        new ObjectMapper().readTree(root.resolve("tokenizer/tokens.json").toFile()).get("tokens");
    sd1 = ClipTokenizer.load(root.resolve("tokenizer"));
    sd2 = ClipTokenizer.load(root.resolve("sd2-tiny/tokenizer"));
    sd1Saved = ClipTokenizer.load(root.resolve("sd1-tiny-current/tokenizer"));
  }

  @AfterAll
  static void close() {
    sd1.close();
    sd2.close();
    sd1Saved.close();
  }

  @Test
  void corpusIsLargeAndHasPromptsLongerThanTheContext() {
    assertThat(tokens.size()).isGreaterThanOrEqualTo(200);
    long longer = 0;
    for (JsonNode t : tokens) {
      longer += t.get("sd1_ids").size() > 77 ? 1 : 0;
    }
    assertThat(longer).isPositive();
  }

  @Test
  void specialTokenIdsComeFromTheTokenizerConfig() {
    assertThat(sd1.padTokenId()).isEqualTo(49407);
    assertThat(sd2.padTokenId()).isEqualTo(0);
    assertThat(sd1.bosTokenId()).isEqualTo(49406);
    assertThat(sd1.eosTokenId()).isEqualTo(49407);
    assertThat(sd1.modelMaxLength()).isEqualTo(77);
    assertThat(sd1Saved.padTokenId()).isEqualTo(49407);
    assertThat(sd1Saved.bosTokenId()).isEqualTo(49406);
    assertThat(sd1Saved.eosTokenId()).isEqualTo(49407);
    assertThat(sd1Saved.modelMaxLength()).isEqualTo(77);
  }

  @Test
  void aTokenizerJsonAloneGivesTheSameIds() {
    assertThat(ParityFixture.root().resolve("sd1-tiny-current/tokenizer/vocab.json"))
        .doesNotExist();
    assertThat(mismatches(sd1Saved, "sd1_ids", false)).isEmpty();
    assertThat(mismatches(sd1Saved, "sd1_input_ids", true)).isEmpty();
  }

  @Test
  void unpaddedIdsEqualTransformers() {
    assertThat(mismatches(sd1, "sd1_ids", false)).isEmpty();
    assertThat(mismatches(sd2, "sd2_ids", false)).isEmpty();
  }

  @Test
  void paddedTruncatedIdsEqualTransformers() {
    assertThat(mismatches(sd1, "sd1_input_ids", true)).isEmpty();
    assertThat(mismatches(sd2, "sd2_input_ids", true)).isEmpty();
  }

  private static List<String> mismatches(ClipTokenizer tokenizer, String key, boolean padded) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : tokens) {
      String prompt = t.get("prompt").asText();
      long[] expected = new ObjectMapper().convertValue(t.get(key), long[].class);
      long[] actual = padded ? tokenizer.encodePadded(prompt) : tokenizer.encode(prompt);
      if (!Arrays.equals(actual, expected)) {
        out.add(key + " of '" + prompt + "': " + Arrays.toString(actual));
      }
    }
    return out;
  }
}
