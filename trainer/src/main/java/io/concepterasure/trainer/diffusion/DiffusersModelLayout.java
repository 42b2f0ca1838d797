package io.concepterasure.trainer.diffusion;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Stable Diffusion model saved by diffusers' {@code save_pretrained}: {@code model_index.json}
 * naming the components, each in a subfolder with its config and weights. {@link #open} checks the
 * whole layout at once and reports everything missing in one error, so a wrong path or a
 * half-copied model fails before any weights are read.
 *
 * <p>Weights are found by diffusers' file names: {@code diffusion_pytorch_model.safetensors} for
 * diffusers models, {@code model.safetensors} for transformers models, each possibly sharded
 * ({@code *.safetensors.index.json}) or saved as a variant ({@code *.fp16.safetensors}, {@code
 * *.safetensors.index.fp16.json}). Pickled {@code .bin} weights are refused: loading them would run
 * arbitrary code. A tokenizer is either the published checkpoints' {@code vocab.json} + {@code
 * merges.txt} or the {@code tokenizer.json} alone that transformers 5 saves.
 */
public final class DiffusersModelLayout {
  public static final String MODEL_INDEX = "model_index.json";
  public static final String UNET = "unet";
  public static final String VAE = "vae";
  public static final String TEXT_ENCODER = "text_encoder";
  public static final String TOKENIZER = "tokenizer";
  public static final String SCHEDULER = "scheduler";

  /** The tokenizers library's whole pipeline in one file: all that transformers 5 saves. */
  public static final String TOKENIZER_JSON = "tokenizer.json";

  /** The BPE files of published CLIP tokenizers, read when there is no tokenizer.json. */
  public static final List<String> BPE_FILES = List.of("vocab.json", "merges.txt");

  /** The components a Stable Diffusion 1.x / 2.x pipeline cannot run without. */
  public static final List<String> STABLE_DIFFUSION_COMPONENTS =
      List.of(UNET, VAE, TEXT_ENCODER, TOKENIZER, SCHEDULER);

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One component: {@code library} and {@code className} as model_index.json declares them, {@code
   * config} its config file, {@code weights} its safetensors file or sharded index ({@code null}
   * for tokenizers and schedulers, which have none).
   */
  public record Component(
      String name, String library, String className, Path folder, Path config, Path weights) {}

  private final Path folder;
  private final String pipelineClass;
  private final Map<String, Component> components;

  private DiffusersModelLayout(
      Path folder, String pipelineClass, Map<String, Component> components) {
    this.folder = folder;
    this.pipelineClass = pipelineClass;
    this.components = components;
  }

  /** Opens a Stable Diffusion folder, preferring full-precision weights over the fp16 variant. */
  public static DiffusersModelLayout open(Path folder) throws IOException {
    return open(folder, null, STABLE_DIFFUSION_COMPONENTS);
  }

  /**
   * Opens {@code folder}, requiring the {@code required} components. With a {@code variant} (e.g.
   * {@code "fp16"}) each component's weights of that variant are used, and its default weights
   * where it has none of the variant (diffusers' {@code variant_compatible_siblings}); a variant
   * that no component has is refused. Without one the default weights are used, and the fp16
   * variant when a component has only that.
   */
  public static DiffusersModelLayout open(Path folder, String variant, List<String> required)
      throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new InvalidModelFolderException(
          folder, Files.exists(folder) ? "is not a folder" : "no such folder");
    }
    Path index = folder.resolve(MODEL_INDEX);
    if (!Files.isRegularFile(index)) {
      throw new InvalidModelFolderException(
          folder,
          "is not a diffusers model folder: no "
              + MODEL_INDEX
              + " (found: "
              + listing(folder)
              + ")");
    }
    JsonNode root;
    try {
      root = JSON.readTree(index.toFile());
    } catch (JacksonException e) {
      throw new InvalidModelFolderException(
          folder, MODEL_INDEX + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new InvalidModelFolderException(folder, MODEL_INDEX + " is not a JSON object");
    }

    Map<String, Component> components = new LinkedHashMap<>();
    Map<String, List<String>> componentProblems = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode value = e.getValue();
      // "_class_name", "_diffusers_version", and options such as "requires_safety_checker".
      if (name.startsWith("_") || !value.isArray() || value.size() != 2) {
        continue;
      }
      if (value.get(0).isNull() || value.get(1).isNull()) {
        continue; // [null, null]: saved as absent, e.g. a removed safety checker
      }
      List<String> found = new ArrayList<>();
      Component c =
          component(folder, name, value.get(0).asText(), value.get(1).asText(), variant, found);
      componentProblems.put(name, found);
      if (found.isEmpty()) {
        components.put(name, c);
      }
    }
    // Only the required components must be complete: a broken optional one is never loaded.
    List<String> problems = new ArrayList<>();
    for (String name : required) {
      if (!root.has(name)) {
        problems.add(MODEL_INDEX + " declares no '" + name + "' component");
      } else if (!componentProblems.containsKey(name)) {
        problems.add(MODEL_INDEX + " declares '" + name + "' as absent");
      } else {
        problems.addAll(componentProblems.get(name));
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidModelFolderException(
          folder, "is not a complete diffusers model:\n  " + String.join("\n  ", problems));
    }
    if (variant != null
        && components.values().stream()
            .noneMatch(c -> c.weights() != null && isVariant(c.weights(), variant))) {
      throw new InvalidModelFolderException(
          folder, "has no weights of variant '" + variant + "' in any component");
    }
    JsonNode className = root.get("_class_name");
    return new DiffusersModelLayout(
        folder,
        className == null ? null : className.asText(),
        Collections.unmodifiableMap(components));
  }

  private static Component component(
      Path root,
      String name,
      String library,
      String className,
      String variant,
      List<String> problems)
      throws IOException {
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir)) {
      problems.add(
          name + "/ is missing (model_index.json declares " + library + "." + className + ")");
      return new Component(name, library, className, dir, null, null);
    }
    if (name.contains("tokenizer")) {
      if (!Files.isRegularFile(dir.resolve(TOKENIZER_JSON))) {
        for (String file : BPE_FILES) {
          if (!Files.isRegularFile(dir.resolve(file))) {
            problems.add(
                name + "/" + file + " is missing (and there is no " + TOKENIZER_JSON + ")");
          }
        }
      }
      Path config = dir.resolve("tokenizer_config.json");
      return new Component(
          name, library, className, dir, Files.isRegularFile(config) ? config : null, null);
    }
    if (name.contains("scheduler")) {
      Path config = dir.resolve("scheduler_config.json");
      if (!Files.isRegularFile(config)) {
        problems.add(name + "/scheduler_config.json is missing");
      }
      return new Component(name, library, className, dir, config, null);
    }
    Path config = dir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      problems.add(name + "/config.json is missing");
    }
    Path weights = weights(dir, library, variant);
    if (weights == null) {
      problems.add(name + "/ has no " + expectedWeights(library, variant) + describeOthers(dir));
    }
    return new Component(name, library, className, dir, config, weights);
  }

  private static Path weights(Path dir, String library, String variant) {
    for (String candidate : weightCandidates(library, variant)) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * The weight file names a component of {@code library} may have, in diffusers' search order: one
   * file, then a sharded index; the asked variant before the default weights; without a variant the
   * default weights, then fp16 (which a folder may hold alone). Downloads choose by the same list.
   */
  public static List<String> weightCandidates(String library, String variant) {
    List<String> stems =
        "transformers".equals(library)
            ? List.of("model")
            : "diffusers".equals(library)
                ? List.of("diffusion_pytorch_model")
                : List.of("diffusion_pytorch_model", "model");
    List<String> variants = Arrays.asList(variant, variant == null ? "fp16" : null);
    List<String> out = new ArrayList<>();
    for (String v : variants) {
      for (String stem : stems) {
        out.add(withVariant(stem + ".safetensors", v));
        out.add(withVariant(stem + ".safetensors.index.json", v));
      }
    }
    return out;
  }

  private static boolean isVariant(Path weights, String variant) {
    String name = weights.getFileName().toString();
    return name.contains("." + variant + ".");
  }

  /** diffusers' {@code _add_variant}: the variant goes before the last extension. */
  static String withVariant(String file, String variant) {
    if (variant == null) {
      return file;
    }
    int dot = file.lastIndexOf('.');
    return file.substring(0, dot) + "." + variant + file.substring(dot);
  }

  private static String expectedWeights(String library, String variant) {
    String stem = "transformers".equals(library) ? "model" : "diffusion_pytorch_model";
    String plain = stem + ".safetensors or " + stem + ".safetensors.index.json";
    return variant == null
        ? plain
        : withVariant(stem + ".safetensors", variant)
            + " or "
            + withVariant(stem + ".safetensors.index.json", variant)
            + ", nor "
            + plain;
  }

  private static String describeOthers(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<String> bins =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".bin") || n.endsWith(".ckpt") || n.endsWith(".pt"))
              .sorted()
              .toList();
      return bins.isEmpty()
          ? ""
          : " (only pickled weights "
              + bins
              + ", which are not loaded because unpickling runs code; convert them to safetensors)";
    }
  }

  private static String listing(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<String> names =
          files.map(p -> p.getFileName() + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
      return names.isEmpty()
          ? "nothing"
          : String.join(", ", names.subList(0, Math.min(names.size(), 20)))
              + (names.size() > 20 ? ", ..." : "");
    }
  }

  public Path folder() {
    return folder;
  }

  /** model_index.json's {@code _class_name}, e.g. {@code StableDiffusionPipeline}; may be null. */
  public String pipelineClass() {
    return pipelineClass;
  }

  /**
   * Every complete component by name, in model_index.json order (broken optional ones left out).
   */
  public Map<String, Component> components() {
    return components;
  }

  public Component component(String name) throws InvalidModelFolderException {
    Component c = components.get(name);
    if (c == null) {
      throw new InvalidModelFolderException(folder, "has no '" + name + "' component");
    }
    return c;
  }

  public Component unet() throws InvalidModelFolderException {
    return component(UNET);
  }

  public Component vae() throws InvalidModelFolderException {
    return component(VAE);
  }

  public Component textEncoder() throws InvalidModelFolderException {
    return component(TEXT_ENCODER);
  }

  public Component tokenizer() throws InvalidModelFolderException {
    return component(TOKENIZER);
  }

  public Component scheduler() throws InvalidModelFolderException {
    return component(SCHEDULER);
  }
}
