package io.concepterasure.trainer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.erasure.ErasureOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The container's termination message, which the operator turns into the resource's status
 * (docs/api.md, "The trainer contract"): on success one JSON line {@code
 * {"outputUri":…,"erasureJsonSha256":…,"metrics":{…}}} (status.result); on failure one
 * human-readable line (status.failure.message). Kubernetes keeps at most 4096 bytes of it.
 */
public final class TerminationMessage {
  /** Where kubelet reads the message from (the Job's terminationMessagePath). */
  public static final Path DEFAULT_PATH = Path.of("/dev/termination-log");

  /** Overrides the path, for running the image elsewhere and for tests. */
  public static final String ENV_PATH = "CE_TERMINATION_MESSAGE_PATH";

  public static final int MAX_BYTES = 4096;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;

  public TerminationMessage(Path file) {
    this.file = file;
  }

  /**
   * The message file: {@value #ENV_PATH} when set, else /dev/termination-log when it exists (in a
   * pod).
   */
  public static Optional<TerminationMessage> fromEnvironment(Map<String, String> environment) {
    String configured = environment.get(ENV_PATH);
    if (configured != null && !configured.isBlank()) {
      return Optional.of(new TerminationMessage(Path.of(configured)));
    }
    return Files.exists(DEFAULT_PATH)
        ? Optional.of(new TerminationMessage(DEFAULT_PATH))
        : Optional.empty();
  }

  /**
   * The success message for a finished erasure: where the model is, the sha256 of its erasure.json
   * (as stored: the uploaded file is this one), and numbers from the record.
   */
  public static String success(String outputUri, Path erasureJson, Map<String, Object> record)
      throws IOException {
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("outputUri", outputUri);
    message.put("erasureJsonSha256", ErasureOutput.sha256(erasureJson));
    message.put("metrics", metrics(record));
    String json = JSON.writeValueAsString(message);
    if (json.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      // Many loss terms could overflow the limit; where the model is matters most.
      message.remove("metrics");
      json = JSON.writeValueAsString(message);
    }
    return json;
  }

  /**
   * finalLoss (the total) and finalLoss.<term> per loss term, iterations, trainingSeconds, and a
   * detector's rates.
   */
  static Map<String, Double> metrics(Map<String, Object> record) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (record.get("finalLosses") instanceof Map<?, ?> losses) {
      losses.forEach(
          (name, value) -> {
            if (value instanceof Number n) {
              metrics.put("loss".equals(name) ? "finalLoss" : "finalLoss." + name, n.doubleValue());
            }
          });
    }
    Object request = record.get("request");
    JsonNode iterations =
        request == null ? null : JSON.valueToTree(request).path("method").path("iterations");
    if (iterations != null && iterations.isNumber()) {
      metrics.put("iterations", iterations.asDouble());
    }
    try {
      Instant start = Instant.parse(String.valueOf(record.get("startTime")));
      Instant end = Instant.parse(String.valueOf(record.get("endTime")));
      metrics.put("trainingSeconds", Duration.between(start, end).toMillis() / 1000.0);
    } catch (RuntimeException e) {
      // an older record without times: the metric is left out
    }
    detectorMetrics(record, metrics);
    return metrics;
  }

  /**
   * nudenet.original.rate and nudenet.erased.rate, then nudenet.original.CLASS and
   * nudenet.erased.CLASS for each class either side detected at all (a zero on both sides says
   * nothing and would only fill the 4096 bytes).
   */
  private static void detectorMetrics(Map<String, Object> record, Map<String, Double> metrics) {
    Object evaluation = record.get("evaluation");
    JsonNode detector = evaluation == null ? null : JSON.valueToTree(evaluation).path("detector");
    if (detector == null || !detector.path("name").isTextual()) {
      return;
    }
    String name = detector.path("name").asText();
    for (String side : new String[] {"original", "erased"}) {
      JsonNode rate = detector.path(side).path("rate");
      if (rate.isNumber()) {
        metrics.put(name + "." + side + ".rate", rate.asDouble());
      }
    }
    detector
        .path("original")
        .path("perClass")
        .fieldNames()
        .forEachRemaining(
            label -> {
              double before = detector.path("original").path("perClass").path(label).asDouble();
              double after = detector.path("erased").path("perClass").path(label).asDouble();
              if (before > 0 || after > 0) {
                metrics.put(name + ".original." + label, before);
                metrics.put(name + ".erased." + label, after);
              }
            });
  }

  /** One line, at most {@link #MAX_BYTES} bytes of UTF-8, cut at a character boundary. */
  public static String failure(String reason, String message) {
    String line =
        (reason + ": " + (message == null ? "" : message))
            .replaceAll("\\s*[\\r\\n]+\\s*", " ")
            .strip();
    if (line.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES) {
      return line;
    }
    StringBuilder cut = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < line.length(); ) {
      int cp = line.codePointAt(i);
      int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + size > MAX_BYTES - 3) {
        break;
      }
      cut.appendCodePoint(cp);
      bytes += size;
      i += Character.charCount(cp);
    }
    return cut + "...";
  }

  /**
   * Writes the message; a failure to write is returned, never thrown: the exit code still tells the
   * outcome.
   */
  public Optional<IOException> write(String message) {
    try {
      Files.writeString(file, message, StandardCharsets.UTF_8);
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of(e);
    }
  }

  public Path file() {
    return file;
  }
}
