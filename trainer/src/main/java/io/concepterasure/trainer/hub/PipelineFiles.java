package io.concepterasure.trainer.hub;

import com.fasterxml.jackson.databind.JsonNode;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which files of a model repository a diffusers pipeline needs: {@code model_index.json}, and in
 * each component folder it declares the configs (every {@code .json} and {@code .txt}: model and
 * scheduler configs, tokenizer files) and one set of safetensors weights, chosen as {@link
 * DiffusersModelLayout} chooses them (the variant only when asked; a sharded index and the shards
 * it names). Everything else is left on the Hub: other variants, pickled {@code .bin}/{@code .ckpt}
 * weights (unpickling runs code), Flax, ONNX, the whole-model checkpoints at the root.
 */
public final class PipelineFiles {
  /** Weight indexes ({@code model.safetensors.index.json}, {@code .index.fp16.json}, .bin's). */
  private static final Pattern WEIGHT_INDEX =
      Pattern.compile(".*\\.(safetensors|bin)\\.index(\\.[^.]+)?\\.json");

  private static final Pattern PICKLED = Pattern.compile(".*\\.(bin|ckpt|pt|pth|pkl)");
  private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

  /** Reads a (small) file of the repository that the selection needs to see: a weight index. */
  @FunctionalInterface
  public interface Reader {
    JsonNode read(String path) throws IOException, InterruptedException;
  }

  /** The chosen files, and what is wrong (empty when the pipeline can be loaded). */
  public record Selection(List<String> files, List<String> problems) {}

  private PipelineFiles() {}

  /**
   * The files of {@code files} (path → file) that the pipeline of {@code modelIndex} needs, with
   * {@code required} components; weight indexes are read through {@code reader}.
   */
  public static Selection select(
      JsonNode modelIndex,
      Map<String, HubFile> files,
      String variant,
      List<String> required,
      Reader reader)
      throws IOException, InterruptedException {
    Set<String> chosen = new LinkedHashSet<>();
    List<String> problems = new ArrayList<>();
    chosen.add(DiffusersModelLayout.MODEL_INDEX);
    boolean variantFound = false;
    Set<String> declared = new LinkedHashSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = modelIndex.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode value = e.getValue();
      if (name.startsWith("_")
          || !value.isArray()
          || value.size() != 2
          || value.get(0).isNull()
          || value.get(1).isNull()) {
        continue;
      }
      if (!COMPONENT.matcher(name).matches() || name.equals("..")) {
        problems.add("model_index.json names a component '" + name + "' that is not a folder name");
        continue;
      }
      declared.add(name);
      List<String> inFolder =
          files.keySet().stream()
              .filter(p -> p.startsWith(name + "/") && p.indexOf('/', name.length() + 1) < 0)
              .sorted()
              .toList();
      if (inFolder.isEmpty()) {
        problems.add(
            "model_index.json declares '"
                + name
                + "' ("
                + value.get(0).asText()
                + "."
                + value.get(1).asText()
                + ") but the repository has no "
                + name
                + "/ folder");
        continue;
      }
      for (String path : inFolder) {
        String file = path.substring(name.length() + 1);
        if ((file.endsWith(".json") || file.endsWith(".txt"))
            && !WEIGHT_INDEX.matcher(file).matches()) {
          chosen.add(path);
        }
      }
      if (!inFolder.contains(name + "/config.json")) {
        continue; // tokenizers, schedulers, image processors: no weights
      }
      String weights = null;
      for (String candidate :
          DiffusersModelLayout.weightCandidates(value.get(0).asText(), variant)) {
        if (files.containsKey(name + "/" + candidate)) {
          weights = name + "/" + candidate;
          break;
        }
      }
      if (weights == null) {
        List<String> pickled = inFolder.stream().filter(p -> PICKLED.matcher(p).matches()).toList();
        problems.add(
            name
                + "/ has no safetensors weights"
                + (pickled.isEmpty()
                    ? ""
                    : " (only pickled "
                        + pickled
                        + ", which are never downloaded: unpickling runs code; name a revision"
                        + " with safetensors weights)"));
        continue;
      }
      if (variant != null && weights.contains("." + variant + ".")) {
        variantFound = true;
      }
      chosen.add(weights);
      if (weights.endsWith(".json")) {
        JsonNode map = reader.read(weights).path("weight_map");
        if (!map.isObject() || map.isEmpty()) {
          problems.add(weights + " has no weight_map");
          continue;
        }
        Set<String> shards = new LinkedHashSet<>();
        map.forEach(shard -> shards.add(shard.asText()));
        for (String shard : shards) {
          String path = name + "/" + shard;
          if (shard.contains("/") || !shard.endsWith(".safetensors")) {
            problems.add(weights + " names a shard '" + shard + "' that is not a safetensors file");
          } else if (!files.containsKey(path)) {
            problems.add(weights + " names " + shard + ", which the repository does not have");
          } else {
            chosen.add(path);
          }
        }
      }
    }
    for (String name : required) {
      if (!declared.contains(name)) {
        problems.add("model_index.json declares no '" + name + "' component");
      }
    }
    if (variant != null && !variantFound && problems.isEmpty()) {
      problems.add("no component has weights of variant '" + variant + "'");
    }
    return new Selection(List.copyOf(chosen), problems);
  }
}
