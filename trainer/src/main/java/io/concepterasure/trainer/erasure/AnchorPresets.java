package io.concepterasure.trainer.erasure;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Neutral anchors for concepts that a request erases without naming an alternative (docs/method.md,
 * "Anchor presets"): nudity becomes "a person wearing clothes" as in MACE, not the empty prompt. A
 * preset is used only when {@code concepts[].alternative} is absent, and erasure.json records it.
 */
public final class AnchorPresets {

  /** One row of the table: concepts matching {@code pattern} erase towards {@code anchor}. */
  public record Preset(String name, Pattern pattern, String anchor) {}

  /** The table of docs/method.md, first match wins. */
  public static final List<Preset> TABLE =
      List.of(
          preset(
              "nudity",
              "\\b(nudity|nude|nudes|naked|nakedness|topless|undressed)\\b",
              "a person wearing clothes"),
          preset(
              "violence",
              "\\b(violence|violent|gore|gory|blood|bloody|brutality)\\b",
              "a peaceful scene"),
          // "Van Gogh style", "in the style of Monet", "style of Picasso".
          preset("artist style", "(\\bstyle of\\b|\\b\\S+ style\\b)", "a painting"));

  private AnchorPresets() {}

  private static Preset preset(String name, String regex, String anchor) {
    return new Preset(name, Pattern.compile(regex, Pattern.CASE_INSENSITIVE), anchor);
  }

  /** The preset that {@code erase} matches, if any. */
  public static Optional<Preset> match(String erase) {
    String text = erase.strip().toLowerCase(Locale.ROOT);
    return TABLE.stream().filter(p -> p.pattern().matcher(text).find()).findFirst();
  }

  /** What {@code concept} erases towards: its alternative, a preset anchor, or "" (∅). */
  public static String target(ErasureRequest.Concept concept) {
    if (concept.alternative() != null) {
      return concept.alternative();
    }
    return match(concept.erase()).map(Preset::anchor).orElse("");
  }
}
