package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.erasure.ErasureOutput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminationMessageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  /** The example in docs/api.md that the operator's TrainingStateMapperTest reads too. */
  static JsonNode documentedExample() throws Exception {
    String doc = Files.readString(Path.of(System.getProperty("repo.root"), "docs", "api.md"));
    Matcher m =
        Pattern.compile(
                "<!-- termination-message-example -->\\s*```json\\s*(\\{.*?})\\s*```",
                Pattern.DOTALL)
            .matcher(doc);
    assertThat(m.find()).as("the termination message example in docs/api.md").isTrue();
    return JSON.readTree(m.group(1));
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void successCarriesWhereTheModelIsItsRecordsHashAndTheDocumentedFields() throws Exception {
    Path erasureJson = Files.writeString(tmp.resolve("erasure.json"), "{\"request\":{}}");
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("request", JSON.readTree("{\"method\":{\"iterations\":400}}"));
    record.put("startTime", "2026-01-01T10:00:00Z");
    record.put("finalLosses", Map.of("loss", 0.0042, "erase", 0.0031));
    record.put("endTime", "2026-01-01T10:58:32.400Z");

    JsonNode message =
        JSON.readTree(TerminationMessage.success("s3://erased-models/x", erasureJson, record));

    assertThat(message.get("outputUri").asText()).isEqualTo("s3://erased-models/x");
    assertThat(message.get("erasureJsonSha256").asText())
        .isEqualTo(ErasureOutput.sha256(erasureJson))
        .hasSize(64);
    assertThat(message.at("/metrics/finalLoss").asDouble()).isEqualTo(0.0042);
    assertThat(message.at("/metrics/finalLoss.erase").asDouble()).isEqualTo(0.0031);
    assertThat(message.at("/metrics/iterations").asDouble()).isEqualTo(400.0);
    assertThat(message.at("/metrics/trainingSeconds").asDouble()).isEqualTo(3512.4);

    JsonNode example = documentedExample();
    assertThat(names(message)).containsExactlyElementsOf(names(example));
    assertThat(names(message.get("metrics")))
        .containsExactlyInAnyOrderElementsOf(names(example.get("metrics")));
    example.get("metrics").forEach(v -> assertThat(v.isNumber()).isTrue());
  }

  @Test
  void nudenetsRatesBecomeShortMetricsAndClassesNeitherSideDetectedAreLeftOut() throws Exception {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put(
        "evaluation",
        JSON.readTree(
            """
            {"detector": {"name": "nudenet",
              "original": {"images": 34, "rate": 0.5,
                "perClass": {"BUTTOCKS_EXPOSED": 0.25, "FEET_EXPOSED": 0.0, "BELLY_EXPOSED": 0.0}},
              "erased": {"images": 34, "rate": 0.0,
                "perClass": {"BUTTOCKS_EXPOSED": 0.0, "FEET_EXPOSED": 0.125, "BELLY_EXPOSED": 0.0}}}}
            """));

    Map<String, Double> metrics = TerminationMessage.metrics(record);

    assertThat(metrics)
        .containsExactly(
            Map.entry("nudenet.original.rate", 0.5),
            Map.entry("nudenet.erased.rate", 0.0),
            Map.entry("nudenet.original.BUTTOCKS_EXPOSED", 0.25),
            Map.entry("nudenet.erased.BUTTOCKS_EXPOSED", 0.0),
            Map.entry("nudenet.original.FEET_EXPOSED", 0.0),
            Map.entry("nudenet.erased.FEET_EXPOSED", 0.125));
  }

  @Test
  void aFailureIsOneLineOfAtMost4KiBCutOnACharacterBoundary() {
    assertThat(TerminationMessage.failure("invalid input", "model.uri: no\nsuch   bucket\r\n"))
        .isEqualTo("invalid input: model.uri: no such   bucket");
    String longMessage = "é".repeat(5000);
    String cut = TerminationMessage.failure("invalid input", longMessage);
    byte[] bytes = cut.getBytes(StandardCharsets.UTF_8);
    assertThat(bytes.length).isLessThanOrEqualTo(TerminationMessage.MAX_BYTES).isGreaterThan(4090);
    assertThat(cut).startsWith("invalid input: éé").endsWith("é...");
  }

  @Test
  void writtenWhereTheEnvironmentSaysOrNowhereOutsideAPod() throws Exception {
    Path file = tmp.resolve("termination-log");
    TerminationMessage message =
        TerminationMessage.fromEnvironment(Map.of(TerminationMessage.ENV_PATH, file.toString()))
            .orElseThrow();
    assertThat(message.write("transient failure: x")).isEmpty();
    assertThat(Files.readString(file)).isEqualTo("transient failure: x");
    assertThat(TerminationMessage.fromEnvironment(Map.of()).isPresent())
        .isEqualTo(Files.exists(TerminationMessage.DEFAULT_PATH));
    assertThat(new TerminationMessage(tmp.resolve("missing/dir/file")).write("x")).isPresent();
  }
}
