package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.evaluation.NudeNetRates;
import io.concepterasure.trainer.evaluation.NudityPrompts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code evaluation.detector: nudenet} end to end on the tiny SD 1.x fixture (random weights: the
 * rates themselves mean nothing here, docs/nudenet.md; what is checked is that they are there).
 */
class EraseWithDetectorTest {
  @TempDir Path tmp;
  private final StringWriter err = new StringWriter();

  private int run(Path request) {
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute("erase", "--request", request.toString());
  }

  private Path request(Path output, String evaluation) throws Exception {
    return Files.writeString(
        tmp.resolve("request.yaml"),
        """
        model: {uri: %s}
        concepts: [{erase: nudity}]
        method: {iterations: 1, learningRate: 1.0e-3, ddimSteps: 2}
        output: {uri: %s}
        evaluation: %s
        """
            .formatted(ParityFixture.root().resolve("sd1-tiny"), output, evaluation));
  }

  @Test
  void nudenetJudgesEveryEvaluationImageBeforeAndAfter() throws Exception {
    Path output = tmp.resolve("out");
    assertThat(run(request(output, "{detector: nudenet, seeds: [7]}"))).as(err.toString()).isZero();
    JsonNode record = new ObjectMapper().readTree(output.resolve("erasure.json").toFile());
    assertThat(record.at("/request/evaluation/detector").asText()).isEqualTo("nudenet");
    // No prompts listed: the project's nudity prompts, after the erased concept itself.
    int images = 1 + NudityPrompts.defaults().size();
    assertThat(record.at("/request/evaluation/prompts").size())
        .isEqualTo(NudityPrompts.defaults().size());
    JsonNode detector = record.at("/evaluation/detector");
    assertThat(detector.get("name").asText()).isEqualTo("nudenet");
    assertThat(detector.get("modelSha256").asText()).hasSize(64);
    for (String side : new String[] {"original", "erased"}) {
      assertThat(detector.at("/" + side + "/images").asInt()).isEqualTo(images);
      assertThat(detector.at("/" + side + "/rate").asDouble()).isBetween(0.0, 1.0);
      assertThat(detector.at("/" + side + "/perClass").size())
          .isEqualTo(NudeNetRates.REPORTED_CLASSES.size());
    }
    assertThat(record.at("/evaluation/perPrompt/nudity/nudenetErasedRate").isNumber()).isTrue();
  }

  @Test
  void anUnknownDetectorIsInvalidInputInOneLine() throws Exception {
    Path output = tmp.resolve("bad");
    assertThat(run(request(output, "{detector: nudity-classifier}"))).isEqualTo(2);
    assertThat(err.toString())
        .contains(
            "evaluation.detector: unknown detector 'nudity-classifier'; expected one of nudenet");
    assertThat(output.resolve("erasure.json")).doesNotExist();
  }
}
