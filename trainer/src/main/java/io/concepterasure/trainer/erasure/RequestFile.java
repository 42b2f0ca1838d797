package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.concepterasure.trainer.evaluation.EvaluationDetector;
import io.concepterasure.trainer.evaluation.NudityPrompts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A request as written, before it is parsed: the fields of the ConceptErasure spec that concern the
 * training, with the same names, read from YAML or JSON, every field optional. The CLI's flags
 * override fields of this object; {@link #toRequest()} then applies the defaults and checks the
 * bounds of {@link RequestFields} once and gives the typed {@link ErasureRequest}.
 *
 * <p>The operator's request file is the whole spec: the fields that only concern the Job (pod
 * resources, image, retries, queue) and the credentials references (mounted as files instead) are
 * accepted and ignored; any other unknown field is an error.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties({
  "resources",
  "image",
  "imagePullSecrets",
  "suspend",
  "activeDeadlineSeconds",
  "backoffLimit",
  "ttlSecondsAfterFinished",
  "queueName"
})
public final class RequestFile {
  public Location model;
  public List<Concept> concepts;
  public Method method;
  public Location output;
  public EvaluationPlan evaluation;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties("credentialsSecretRef")
  public static final class Location {
    public String uri;

    public Location() {}

    public Location(String uri) {
      this.uri = uri;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class Concept {
    public String erase;
    public String alternative;

    public Concept() {}

    public Concept(String erase, String alternative) {
      this.erase = erase;
      this.alternative = alternative;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class Method {
    public String name;
    public Integer iterations;
    public Double learningRate;
    public Double eta;

    @JsonProperty("lambda")
    public Double lambda;

    public Double guidanceScale;
    public Integer ddimSteps;
    public String parameters;
    public Long seed;
    public List<String> preservePrompts;
    public Double preserveWeight;
    public String precision;
    public Boolean gradientCheckpointing;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class EvaluationPlan {
    public List<String> prompts;
    public List<Long> seeds;
    public String detector;
  }

  private static final ObjectMapper READER =
      new YAMLMapper()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  /**
   * Reads a request file (YAML or JSON); a malformed file is an {@link InvalidRequestException}.
   */
  public static RequestFile read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new InvalidRequestException(
          "request file " + file + " does not exist or is not a file");
    }
    try {
      RequestFile request = READER.readValue(file.toFile(), RequestFile.class);
      if (request == null) {
        throw new InvalidRequestException("request file " + file + " is empty");
      }
      return request;
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidRequestException(
          "request file "
              + file
              + ": unknown field '"
              + e.getPropertyName()
              + "' at "
              + e.getPathReference().replace(RequestFile.class.getName(), "request")
              + "; known fields: "
              + e.getKnownPropertyIds(),
          e);
    } catch (JsonProcessingException e) {
      throw new InvalidRequestException(
          "request file "
              + file
              + " is not a valid request: "
              + e.getOriginalMessage()
              + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"),
          e);
    }
  }

  /** The method part, made empty first if the file has none (for the CLI's overrides). */
  public Method method() {
    if (method == null) {
      method = new Method();
    }
    return method;
  }

  /** The evaluation part, made empty first if the file has none (for the CLI's overrides). */
  public EvaluationPlan evaluation() {
    if (evaluation == null) {
      evaluation = new EvaluationPlan();
    }
    return evaluation;
  }

  /** This file as JSON, as written (no defaults). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Parses this request: every missing field takes its default, every problem is named. Throws one
   * {@link InvalidRequestException} that lists them all, so that a user fixes them in one go.
   */
  public ErasureRequest toRequest() {
    List<String> problems = new ArrayList<>();
    String modelUri = uri(model, RequestFields.MODEL_URI, problems);
    String outputUri = uri(output, RequestFields.OUTPUT_URI, problems);
    List<ErasureRequest.Concept> parsedConcepts = concepts(problems);
    ErasureRequest.Method parsedMethod = method(method == null ? new Method() : method, problems);
    ErasureRequest.EvaluationPlan parsedEvaluation =
        evaluation(evaluation == null ? new EvaluationPlan() : evaluation, problems);
    if (!problems.isEmpty()) {
      throw new InvalidRequestException("invalid erasure request: " + String.join("; ", problems));
    }
    return new ErasureRequest(
        new ErasureRequest.Location(modelUri),
        parsedConcepts,
        parsedMethod,
        new ErasureRequest.Location(outputUri),
        parsedEvaluation);
  }

  private static String uri(Location location, RequestFields.Field field, List<String> problems) {
    String uri = location == null ? null : location.uri;
    if (uri == null || uri.isBlank()) {
      problems.add(field.path() + " is required");
      return null;
    }
    field.checkLength(field.path(), uri).ifPresent(problems::add);
    return uri;
  }

  private List<ErasureRequest.Concept> concepts(List<String> problems) {
    if (concepts == null || concepts.isEmpty()) {
      problems.add("concepts must name at least one concept to erase");
      return List.of();
    }
    RequestFields.CONCEPTS.checkSize(concepts.size()).ifPresent(problems::add);
    List<ErasureRequest.Concept> parsed = new ArrayList<>();
    for (int i = 0; i < concepts.size(); i++) {
      Concept c = concepts.get(i);
      String at = "concepts[" + i + "]";
      if (c == null || c.erase == null || c.erase.isBlank()) {
        problems.add(at + ".erase must not be empty");
        continue;
      }
      RequestFields.CONCEPT_ERASE.checkLength(at + ".erase", c.erase).ifPresent(problems::add);
      Optional<String> alternative =
          RequestFields.CONCEPT_ALTERNATIVE.checkLength(at + ".alternative", c.alternative);
      if (alternative.isPresent()) {
        problems.add(
            alternative.get()
                + (c.alternative.isBlank()
                    ? " (leave it out to erase the concept towards the empty prompt)"
                    : ""));
      } else if (c.alternative != null && c.alternative.strip().equals(c.erase.strip())) {
        problems.add(at + ".alternative must differ from " + at + ".erase ('" + c.erase + "')");
      }
      parsed.add(new ErasureRequest.Concept(c.erase, c.alternative));
    }
    return parsed;
  }

  private static ErasureRequest.Method method(Method m, List<String> problems) {
    ErasureMethod name =
        parse(
            () -> ErasureMethod.fromSpecName(orDefault(m.name, RequestFields.METHOD_NAME)),
            "method.name",
            problems);
    TrainableParameterSet parameters =
        parse(
            () ->
                TrainableParameterSet.fromSpecName(
                    orDefault(m.parameters, RequestFields.PARAMETERS)),
            "method.parameters",
            problems);
    List<String> preserve = m.preservePrompts == null ? List.of() : m.preservePrompts;
    RequestFields.PRESERVE_PROMPTS.checkSize(preserve.size()).ifPresent(problems::add);
    texts(preserve, RequestFields.PRESERVE_PROMPT, "method.preservePrompts", problems);
    return new ErasureRequest.Method(
        name,
        number(m.iterations, RequestFields.ITERATIONS, problems).intValue(),
        number(m.learningRate, RequestFields.LEARNING_RATE, problems).doubleValue(),
        number(m.eta, RequestFields.ETA, problems).doubleValue(),
        number(m.lambda, RequestFields.LAMBDA, problems).doubleValue(),
        number(m.guidanceScale, RequestFields.GUIDANCE_SCALE, problems).doubleValue(),
        number(m.ddimSteps, RequestFields.DDIM_STEPS, problems).intValue(),
        parameters,
        number(m.seed, RequestFields.SEED, problems).longValue(),
        preserve,
        number(m.preserveWeight, RequestFields.PRESERVE_WEIGHT, problems).doubleValue(),
        m.precision == null
            ? null
            : parse(() -> Precision.fromSpecName(m.precision), "method.precision", problems),
        m.gradientCheckpointing != null
            ? m.gradientCheckpointing
            : (Boolean) RequestFields.GRADIENT_CHECKPOINTING.defaultValue());
  }

  private static ErasureRequest.EvaluationPlan evaluation(EvaluationPlan e, List<String> problems) {
    EvaluationDetector detector =
        e.detector == null
            ? null
            : parse(
                () -> EvaluationDetector.fromSpecName(e.detector), "evaluation.detector", problems);
    List<String> prompts =
        e.prompts != null && !e.prompts.isEmpty()
            ? e.prompts
            : detector == EvaluationDetector.NUDENET ? NudityPrompts.defaults() : List.of();
    RequestFields.EVALUATION_PROMPTS.checkSize(prompts.size()).ifPresent(problems::add);
    texts(prompts, RequestFields.EVALUATION_PROMPT, "evaluation.prompts", problems);
    @SuppressWarnings("unchecked")
    List<Long> seeds =
        e.seeds == null || e.seeds.isEmpty()
            ? (List<Long>) RequestFields.EVALUATION_SEEDS.defaultValue()
            : e.seeds;
    RequestFields.EVALUATION_SEEDS.checkSize(seeds.size()).ifPresent(problems::add);
    return new ErasureRequest.EvaluationPlan(prompts, seeds, detector);
  }

  private static void texts(
      List<String> texts, RequestFields.Field item, String path, List<String> problems) {
    if (texts.stream().anyMatch(t -> t == null || t.isBlank())) {
      problems.add(path + " must not contain empty prompts");
      return;
    }
    for (int i = 0; i < texts.size(); i++) {
      item.checkLength(path + "[" + i + "]", texts.get(i)).ifPresent(problems::add);
    }
  }

  private static Number number(Number value, RequestFields.Field field, List<String> problems) {
    field.check(value).ifPresent(problems::add);
    return value != null ? value : (Number) field.defaultValue();
  }

  private static String orDefault(String value, RequestFields.Field field) {
    return value != null ? value : (String) field.defaultValue();
  }

  /** The parsed value, or null with the problem noted (the request is refused anyway). */
  private static <T> T parse(Supplier<T> parser, String field, List<String> problems) {
    try {
      return parser.get();
    } catch (IllegalArgumentException e) {
      problems.add(field + ": " + e.getMessage());
      return null;
    }
  }
}
