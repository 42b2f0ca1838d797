package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TrainingCheckpoint} as one safetensors file: tensors {@code weight/<name>}, {@code
 * adam_mean/<name>}, {@code adam_variance/<name>}; iteration, optimizer step and last losses in the
 * metadata. The writer moves a finished file into place, so a run killed while saving keeps the
 * previous state.
 */
public final class TrainingCheckpointFile {
  static final String FORMAT = "concept-erasure-training-state/1";
  private static final List<String> GROUPS = List.of("weight/", "adam_mean/", "adam_variance/");
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainingCheckpointFile() {}

  public static void write(Path file, TrainingCheckpoint state) throws IOException {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    List<Map<String, NDArray>> groups =
        List.of(state.weights(), state.adamMean(), state.adamVariance());
    for (int g = 0; g < GROUPS.size(); g++) {
      String prefix = GROUPS.get(g);
      groups.get(g).forEach((name, array) -> tensors.put(prefix + name, array));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", FORMAT);
    metadata.put("iteration", Integer.toString(state.iteration()));
    metadata.put("optimizerStep", Long.toString(state.optimizerStep()));
    metadata.put("lastLosses", JSON.writeValueAsString(state.lastLosses()));
    SafetensorsWriter.write(file, tensors, metadata);
  }

  public static TrainingCheckpoint read(Path file, NDManager manager) throws IOException {
    try (SafetensorsReader reader = SafetensorsReader.open(file)) {
      Map<String, String> metadata = reader.metadata();
      if (metadata == null || !FORMAT.equals(metadata.get("format"))) {
        throw new IOException(
            file
                + " is not a training state (format "
                + (metadata == null ? null : metadata.get("format"))
                + ")");
      }
      List<Map<String, NDArray>> groups =
          List.of(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
      for (String key : reader.names()) {
        for (int g = 0; g < GROUPS.size(); g++) {
          if (key.startsWith(GROUPS.get(g))) {
            groups.get(g).put(key.substring(GROUPS.get(g).length()), reader.read(key, manager));
          }
        }
      }
      Map<String, Double> losses =
          JSON.readValue(
              metadata.get("lastLosses"), new TypeReference<LinkedHashMap<String, Double>>() {});
      return new TrainingCheckpoint(
          Integer.parseInt(metadata.get("iteration")),
          Long.parseLong(metadata.get("optimizerStep")),
          groups.get(0),
          groups.get(1),
          groups.get(2),
          losses);
    }
  }
}
