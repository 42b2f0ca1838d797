package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TrainingState} on disk: a JSON header, then each array in DJL's own encoding (one
 * array at a time, so no single buffer nears DJL's 2 GiB limit). Written to a temporary file and
 * moved into place, so a run killed while saving leaves the previous state intact.
 */
public final class TrainingStateFile {
  private static final String MAGIC = "concept-erasure-training-state/1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainingStateFile() {}

  public static void write(Path file, TrainingState state) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream raw = Files.newOutputStream(temp);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 20))) {
      Map<String, Object> header = new LinkedHashMap<>();
      header.put("format", MAGIC);
      header.put("iteration", state.iteration());
      header.put("optimizerStep", state.optimizerStep());
      header.put("lastLosses", state.lastLosses());
      header.put("names", List.copyOf(state.weights().keySet()));
      byte[] headerBytes = JSON.writeValueAsBytes(header);
      out.writeInt(headerBytes.length);
      out.write(headerBytes);
      for (Map<String, NDArray> group : List.of(state.weights(), state.adamMean(), state.adamVariance())) {
        for (String name : state.weights().keySet()) {
          byte[] encoded = group.get(name).encode();
          out.writeInt(encoded.length);
          out.write(encoded);
        }
      }
    }
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  public static TrainingState read(Path file, NDManager manager) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20))) {
      byte[] headerBytes = in.readNBytes(in.readInt());
      Map<String, Object> header = JSON.readValue(headerBytes, new TypeReference<>() {});
      if (!MAGIC.equals(header.get("format"))) {
        throw new IOException(file + " is not a training state (format " + header.get("format") + ")");
      }
      @SuppressWarnings("unchecked")
      List<String> names = (List<String>) header.get("names");
      List<Map<String, NDArray>> groups = List.of(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
      for (Map<String, NDArray> group : groups) {
        for (String name : names) {
          group.put(name, manager.decode(in.readNBytes(in.readInt())));
        }
      }
      Map<String, Double> losses = new LinkedHashMap<>();
      @SuppressWarnings("unchecked")
      Map<String, Number> savedLosses = (Map<String, Number>) header.get("lastLosses");
      savedLosses.forEach((k, v) -> losses.put(k, v.doubleValue()));
      return new TrainingState(
          ((Number) header.get("iteration")).intValue(),
          ((Number) header.get("optimizerStep")).longValue(),
          groups.get(0), groups.get(1), groups.get(2), losses);
    }
  }
}
