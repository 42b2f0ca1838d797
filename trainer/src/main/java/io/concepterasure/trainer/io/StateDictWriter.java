package io.concepterasure.trainer.io;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves a {@link Module}'s parameters by checkpoint name, as diffusers' {@code save_pretrained}
 * does.
 */
public final class StateDictWriter {
  /** What diffusers and transformers write, and what transformers checks when loading. */
  public static final Map<String, String> PYTORCH_METADATA = Map.of("format", "pt");

  private StateDictWriter() {}

  public static void save(Module module, Path file) throws IOException {
    save(module, file, PYTORCH_METADATA);
  }

  public static void save(Module module, Path file, Map<String, String> metadata)
      throws IOException {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : module.namedParameters().entrySet()) {
      if (!e.getValue().isInitialized()) {
        throw new SafetensorsException(
            file,
            "parameter '"
                + e.getKey()
                + "' of "
                + module.getClass().getSimpleName()
                + " was never initialised or loaded; nothing written");
      }
      tensors.put(e.getKey(), e.getValue().array());
    }
    SafetensorsWriter.write(file, tensors, metadata);
  }
}
