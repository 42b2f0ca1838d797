package io.concepterasure.trainer.erasure;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The retain pool R of docs/method.md: prompts whose conditional prediction L_keep holds in place.
 * R is the request's {@code preservePrompts} plus, when a concept is erased with no alternative, a
 * default pool of everyday prompts (the model folder's own {@value #MODEL_FILE}, else the project's
 * list for Stable Diffusion), with every prompt about an erased concept filtered out.
 */
public final class RetainPool {
  /** A model folder may name its own concepts in this file, one prompt a line. */
  public static final String MODEL_FILE = "retain_prompts.txt";

  private static final String DEFAULT_RESOURCE = "retain-prompts.txt";

  /** Words that say nothing about what a prompt shows; ignored when matching concepts. */
  private static final Set<String> FILLER =
      Set.of(
          "a", "an", "the", "of", "in", "on", "at", "by", "with", "and", "or", "to", "for", "photo",
          "picture", "image", "style");

  private RetainPool() {}

  /** The project's everyday object and scene prompts for Stable Diffusion models. */
  public static List<String> stableDiffusionDefaults() {
    try (InputStream in = RetainPool.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEFAULT_RESOURCE + " is missing from the trainer");
      }
      return lines(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The model folder's own pool if it has one, else {@link #stableDiffusionDefaults()}. */
  public static List<String> defaultsFor(Path modelFolder) {
    Path own = modelFolder.resolve(MODEL_FILE);
    if (!Files.isRegularFile(own)) {
      return stableDiffusionDefaults();
    }
    try {
      return lines(Files.readString(own, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + own + ": " + e.getMessage(), e);
    }
  }

  /**
   * R for a request: its preservePrompts, plus {@code defaults} when some concept has no
   * alternative, each once, without the prompts about an erased concept.
   */
  public static List<String> forRequest(ErasureRequest request, List<String> defaults) {
    Set<String> pool = new LinkedHashSet<>(request.method().preservePrompts());
    if (request.concepts().stream().anyMatch(c -> c.alternative() == null)) {
      pool.addAll(defaults);
    }
    List<String> erased = request.concepts().stream().map(ErasureRequest.Concept::erase).toList();
    return filter(List.copyOf(pool), erased);
  }

  /**
   * {@code prompts} without those about a concept of {@code erased}: a prompt is about a concept
   * when it contains every word of the concept that names something (not "a", "the", "style", …).
   * "a red circle" is about "a red circle" but not about "a red square"; "a photo of a dog on a
   * beach" is about "dog".
   */
  public static List<String> filter(List<String> prompts, List<String> erased) {
    List<Set<String>> concepts =
        erased.stream().map(RetainPool::contentWords).filter(w -> !w.isEmpty()).toList();
    return prompts.stream()
        .filter(
            p -> {
              Set<String> words = words(p);
              return concepts.stream().noneMatch(words::containsAll);
            })
        .toList();
  }

  private static Set<String> contentWords(String text) {
    Set<String> out = words(text);
    out.removeAll(FILLER);
    return out;
  }

  private static Set<String> words(String text) {
    return Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
        .filter(w -> !w.isEmpty())
        .map(RetainPool::singular)
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** "dogs" matches "dog": a final plural s is dropped (but not from "glass"). */
  private static String singular(String word) {
    return word.length() > 3 && word.endsWith("s") && !word.endsWith("ss")
        ? word.substring(0, word.length() - 1)
        : word;
  }

  private static List<String> lines(String text) {
    return text.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .distinct()
        .toList();
  }
}
