package io.concepterasure.trainer.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Loads a safetensors checkpoint into a {@link Module} by name, the way {@code
 * load_state_dict(strict=True)} does: the whole file is checked against the module first, and every
 * missing, unexpected or mis-shaped tensor is reported in one error, so that a user sees at once
 * whether the checkpoint is of another architecture or just differs in one block.
 */
public final class StateDictLoader {
  /** Problems listed in full before the rest are only counted. */
  private static final int MAX_LISTED = 40;

  private StateDictLoader() {}

  /**
   * Loads {@code file} (a {@code .safetensors} file or a sharded index) converting to {@code
   * dtype}.
   */
  public static void load(Module module, Path file, NDManager manager, DataType dtype)
      throws IOException {
    load(module, file, manager, dtype, name -> false);
  }

  /**
   * As {@link #load(Module, Path, NDManager, DataType)}, skipping tensors of the file that the
   * module has no parameter for when {@code ignoreUnexpected} accepts their name (diffusers' {@code
   * _keys_to_ignore_on_load_unexpected}, e.g. CLIP's {@code position_ids} buffer).
   */
  public static void load(
      Module module,
      Path file,
      NDManager manager,
      DataType dtype,
      Predicate<String> ignoreUnexpected)
      throws IOException {
    try (SafetensorsReader reader = SafetensorsReader.open(file)) {
      load(module, reader, manager, dtype, ignoreUnexpected);
    }
  }

  public static void load(
      Module module,
      SafetensorsReader reader,
      NDManager manager,
      DataType dtype,
      Predicate<String> ignoreUnexpected)
      throws IOException {
    load(module, reader, manager, dtype, ignoreUnexpected, UnaryOperator.identity());
  }

  /**
   * As {@link #load(Module, SafetensorsReader, NDManager, DataType, Predicate)}, with each
   * parameter read from the file's tensor {@code fileKey.apply(parameterName)}: a checkpoint whose
   * keys differ from the module's by a fixed rule (transformers 5 saves CLIP's text encoder without
   * the {@code text_model.} prefix).
   */
  public static void load(
      Module module,
      SafetensorsReader reader,
      NDManager manager,
      DataType dtype,
      Predicate<String> ignoreUnexpected,
      UnaryOperator<String> fileKey)
      throws IOException {
    Map<String, Parameter> parameters = module.namedParameters();
    Set<String> expectedKeys = new HashSet<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
      Shape expected = e.getValue().shape();
      String key = fileKey.apply(e.getKey());
      expectedKeys.add(key);
      if (!reader.contains(key)) {
        problems.add("missing tensor '" + key + "' (expected shape " + dims(expected) + ")");
        continue;
      }
      Shape found = reader.info(key).shape();
      if (!found.equals(expected)) {
        problems.add(
            "tensor '"
                + key
                + "' expected shape "
                + dims(expected)
                + " but file has "
                + dims(found));
      }
    }
    for (String name : reader.names()) {
      if (!expectedKeys.contains(name) && !ignoreUnexpected.test(name)) {
        problems.add(
            "unexpected tensor '"
                + name
                + "' of shape "
                + dims(reader.info(name).shape())
                + " (the module has no such parameter)");
      }
    }
    if (!problems.isEmpty()) {
      throw new SafetensorsException(reader.path(), describe(module, problems));
    }

    // Read everything before replacing anything, so a failed read leaves the module as it was.
    Map<Parameter, NDArray> loaded = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
        loaded.put(e.getValue(), reader.read(fileKey.apply(e.getKey()), manager, dtype));
      }
    } catch (IOException | RuntimeException e) {
      loaded.values().forEach(NDArray::close);
      throw e;
    }
    loaded.forEach(Parameter::set);
  }

  private static String describe(Module module, List<String> problems) {
    StringBuilder out =
        new StringBuilder()
            .append(problems.size())
            .append(problems.size() == 1 ? " problem" : " problems")
            .append(" loading into ")
            .append(module.getClass().getSimpleName())
            .append(':');
    for (int i = 0; i < Math.min(problems.size(), MAX_LISTED); i++) {
      out.append("\n  ").append(problems.get(i));
    }
    if (problems.size() > MAX_LISTED) {
      out.append("\n  ... and ").append(problems.size() - MAX_LISTED).append(" more");
    }
    return out.toString();
  }

  static String dims(Shape shape) {
    return Arrays.toString(shape.getShape());
  }
}
