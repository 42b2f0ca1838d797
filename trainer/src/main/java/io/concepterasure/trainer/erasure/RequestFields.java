package io.concepterasure.trainer.erasure;

import java.util.List;
import java.util.Optional;

/**
 * Every request field that has a default or a bound, declared once. {@link RequestFile} takes its
 * defaults and checks its bounds from here, {@code erase --help} lists them, and
 * RequestFileCompatibilityTest holds each one equal to the CRD's generated schema, so that the
 * trainer and the resource cannot drift apart.
 */
public final class RequestFields {

  /**
   * One field, named by its path in the spec ({@code method.learningRate}; {@code []} for the items
   * of a list). Null means the field has no such default or bound.
   *
   * @param minimum the lowest value (exclusive when {@code exclusiveMinimum})
   * @param maxItems the most items of a list
   * @param minLength the fewest characters of a string
   * @param maxLength the most characters of a string
   */
  public record Field(
      String path,
      Object defaultValue,
      Double minimum,
      boolean exclusiveMinimum,
      Double maximum,
      Integer maxItems,
      Integer minLength,
      Integer maxLength) {

    public int defaultInt() {
      return ((Number) defaultValue).intValue();
    }

    public long defaultLong() {
      return ((Number) defaultValue).longValue();
    }

    public double defaultDouble() {
      return ((Number) defaultValue).doubleValue();
    }

    /** The problem with {@code value} for this field, if any (null values have none). */
    public Optional<String> check(Number value) {
      if (value == null) {
        return Optional.empty();
      }
      double v = value.doubleValue();
      boolean integer = value instanceof Integer || value instanceof Long;
      if (!Double.isFinite(v)) {
        return problem("must be a finite number", value);
      }
      if (minimum != null && (exclusiveMinimum ? v <= minimum : v < minimum)) {
        if (exclusiveMinimum) {
          return problem(
              maximum == null
                  ? "must be > " + format(minimum)
                  : "must be in (" + format(minimum) + ", " + format(maximum) + "]",
              value);
        }
        if (integer) {
          // "> 0" reads as "positive", the common case (iterations, steps).
          return problem(minimum == 1 ? "must be > 0" : "must be >= " + format(minimum), value);
        }
        return problem("must be a finite number >= " + format(minimum), value);
      }
      if (maximum != null && v > maximum) {
        return problem("must be at most " + format(maximum), value);
      }
      return Optional.empty();
    }

    /** The problem with a list of {@code size} items, if any. */
    public Optional<String> checkSize(int size) {
      return maxItems != null && size > maxItems
          ? Optional.of(path + " must have at most " + maxItems + " items but has " + size)
          : Optional.empty();
    }

    /** The problem with the text {@code value} (a list item: {@code where} names its index). */
    public Optional<String> checkLength(String where, String value) {
      if (value == null) {
        return Optional.empty();
      }
      if (minLength != null && value.strip().length() < minLength) {
        return Optional.of(where + " must not be empty");
      }
      if (maxLength != null && value.length() > maxLength) {
        return Optional.of(
            where + " must be at most " + maxLength + " characters but has " + value.length());
      }
      return Optional.empty();
    }

    private Optional<String> problem(String rule, Number value) {
      return Optional.of(path + " " + rule + " but was " + value);
    }

    private static String format(double bound) {
      return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
    }
  }

  public static final Field MODEL_URI = text("model.uri", 2048);
  public static final Field OUTPUT_URI = text("output.uri", 2048);
  public static final Field CONCEPTS = list("concepts", null, 16);
  public static final Field CONCEPT_ERASE = text("concepts[].erase", 256);
  public static final Field CONCEPT_ALTERNATIVE = text("concepts[].alternative", 256);
  public static final Field METHOD_NAME = choice("method.name", "allButOne");
  public static final Field ITERATIONS = number("method.iterations", 400, 1, 100_000.0);
  public static final Field LEARNING_RATE =
      new Field("method.learningRate", 1e-5, 0.0, true, 1.0, null, null, null);
  public static final Field ETA = number("method.eta", 1.0, 0, 10.0);
  public static final Field LAMBDA = number("method.lambda", 1.0, 0, 100.0);
  public static final Field GUIDANCE_SCALE = number("method.guidanceScale", 3.0, 0, 30.0);
  public static final Field DDIM_STEPS = number("method.ddimSteps", 50, 1, 1000.0);
  public static final Field PARAMETERS = choice("method.parameters", "crossAttention");
  public static final Field SEED = number("method.seed", 0L, 0, null);
  public static final Field PRESERVE_PROMPTS = list("method.preservePrompts", null, 64);
  public static final Field PRESERVE_PROMPT = text("method.preservePrompts[]", 1024);
  public static final Field PRESERVE_WEIGHT = number("method.preserveWeight", 1.0, 0, 100.0);
  public static final Field PRECISION = choice("method.precision", null);
  public static final Field GRADIENT_CHECKPOINTING = flag("method.gradientCheckpointing", false);
  public static final Field EVALUATION_PROMPTS = list("evaluation.prompts", null, 32);
  public static final Field EVALUATION_PROMPT = text("evaluation.prompts[]", 1024);
  public static final Field EVALUATION_SEEDS = list("evaluation.seeds", List.of(0L, 1L), 16);
  public static final Field EVALUATION_DETECTOR = choice("evaluation.detector", null);

  public static final List<Field> ALL =
      List.of(
          MODEL_URI,
          OUTPUT_URI,
          CONCEPTS,
          CONCEPT_ERASE,
          CONCEPT_ALTERNATIVE,
          METHOD_NAME,
          ITERATIONS,
          LEARNING_RATE,
          ETA,
          LAMBDA,
          GUIDANCE_SCALE,
          DDIM_STEPS,
          PARAMETERS,
          SEED,
          PRESERVE_PROMPTS,
          PRESERVE_PROMPT,
          PRESERVE_WEIGHT,
          PRECISION,
          GRADIENT_CHECKPOINTING,
          EVALUATION_PROMPTS,
          EVALUATION_PROMPT,
          EVALUATION_SEEDS,
          EVALUATION_DETECTOR);

  private RequestFields() {}

  private static Field number(String path, Number defaultValue, double minimum, Double maximum) {
    return new Field(path, defaultValue, minimum, false, maximum, null, null, null);
  }

  private static Field flag(String path, boolean defaultValue) {
    return new Field(path, defaultValue, null, false, null, null, null, null);
  }

  private static Field choice(String path, String defaultValue) {
    return new Field(path, defaultValue, null, false, null, null, null, null);
  }

  private static Field list(String path, List<?> defaultValue, int maxItems) {
    return new Field(path, defaultValue, null, false, null, maxItems, null, null);
  }

  private static Field text(String path, int maxLength) {
    return new Field(path, null, null, false, null, null, 1, maxLength);
  }

  /** The defaults, one line each, for {@code erase --help}. */
  public static String defaultsHelp() {
    StringBuilder out = new StringBuilder();
    for (Field f : ALL) {
      if (f.defaultValue() != null) {
        out.append(String.format("  %-22s %s%n", f.path(), f.defaultValue()));
      }
    }
    return out.toString();
  }
}
