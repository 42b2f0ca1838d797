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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code trainer erase} is asked to do: the fields of the ConceptErasure spec that concern the
 * training, with the same names (model.uri, concepts[].erase/alternative, method.*, output.uri,
 * evaluation.*), read from YAML or JSON. Missing method fields take the defaults of docs/method.md
 * when {@link #withDefaults()} is called. The operator's request file is the whole spec: the fields
 * that only concern the Job (pod resources, image, retries, queue) and the credentials references
 * (mounted as files instead) are accepted and ignored; any other unknown field is an error.
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
public final class ErasureRequest {
  public Location model;
  public List<Concept> concepts;
  public Method method;
  public Location output;
  public Evaluation evaluation;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties("credentialsSecretRef")
  public static final class Location {
    public String uri;
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
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class Evaluation {
    public List<String> prompts;
    public List<Long> seeds;
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
  public static ErasureRequest read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new InvalidRequestException(
          "request file " + file + " does not exist or is not a file");
    }
    try {
      ErasureRequest request = READER.readValue(file.toFile(), ErasureRequest.class);
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
              + e.getPathReference().replace(ErasureRequest.class.getName(), "request")
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

  /**
   * This request as canonical JSON: what erasure.json records and what a resumed run must match.
   */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A copy with every missing method and evaluation field set to its default. */
  public ErasureRequest withDefaults() {
    ErasureRequest copy;
    try {
      copy = JSON.readValue(toJson(), ErasureRequest.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    Method m = copy.method == null ? new Method() : copy.method;
    m.name = m.name == null ? ErasureMethod.ALL_BUT_ONE.specName() : m.name;
    m.iterations = m.iterations == null ? 400 : m.iterations;
    m.learningRate = m.learningRate == null ? 1e-5 : m.learningRate;
    m.eta = m.eta == null ? 1.0 : m.eta;
    m.lambda = m.lambda == null ? 1.0 : m.lambda;
    m.guidanceScale = m.guidanceScale == null ? 3.0 : m.guidanceScale;
    m.ddimSteps = m.ddimSteps == null ? 50 : m.ddimSteps;
    m.parameters =
        m.parameters == null ? TrainableParameterSet.CROSS_ATTENTION.specName() : m.parameters;
    m.seed = m.seed == null ? 0L : m.seed;
    m.preservePrompts = m.preservePrompts == null ? List.of() : m.preservePrompts;
    m.preserveWeight = m.preserveWeight == null ? 1.0 : m.preserveWeight;
    copy.method = m;
    Evaluation e = copy.evaluation == null ? new Evaluation() : copy.evaluation;
    e.prompts = e.prompts == null ? List.of() : e.prompts;
    e.seeds = e.seeds == null || e.seeds.isEmpty() ? List.of(0L, 1L) : e.seeds;
    copy.evaluation = e;
    return copy;
  }

  /**
   * Every problem of this request (after {@link #withDefaults()}), each naming the field; throws
   * one {@link InvalidRequestException} listing them all, so a user fixes them in one go.
   */
  public ErasureRequest validate() {
    List<String> problems = new ArrayList<>();
    if (model == null || blank(model.uri)) {
      problems.add("model.uri is required");
    }
    if (output == null || blank(output.uri)) {
      problems.add("output.uri is required");
    }
    if (concepts == null || concepts.isEmpty()) {
      problems.add("concepts must name at least one concept to erase");
    } else {
      for (int i = 0; i < concepts.size(); i++) {
        Concept c = concepts.get(i);
        if (c == null || blank(c.erase)) {
          problems.add("concepts[" + i + "].erase must not be empty");
        } else if (c.alternative != null && c.alternative.strip().equals(c.erase.strip())) {
          problems.add(
              "concepts["
                  + i
                  + "].alternative must differ from concepts["
                  + i
                  + "].erase ('"
                  + c.erase
                  + "')");
        }
      }
    }
    if (method != null) {
      try {
        ErasureMethod.fromSpecName(method.name);
      } catch (IllegalArgumentException e) {
        problems.add("method.name: " + e.getMessage());
      }
      try {
        TrainableParameterSet.fromSpecName(method.parameters);
      } catch (IllegalArgumentException e) {
        problems.add("method.parameters: " + e.getMessage());
      }
      positive(problems, "method.iterations", method.iterations);
      positive(problems, "method.ddimSteps", method.ddimSteps);
      if (method.ddimSteps != null && method.ddimSteps > 1000) {
        problems.add("method.ddimSteps must be at most 1000 but was " + method.ddimSteps);
      }
      if (method.learningRate != null && !(method.learningRate > 0 && method.learningRate <= 1)) {
        problems.add("method.learningRate must be in (0, 1] but was " + method.learningRate);
      }
      nonNegative(problems, "method.eta", method.eta);
      nonNegative(problems, "method.lambda", method.lambda);
      nonNegative(problems, "method.guidanceScale", method.guidanceScale);
      nonNegative(problems, "method.preserveWeight", method.preserveWeight);
      if (method.seed != null && method.seed < 0) {
        problems.add("method.seed must be >= 0 but was " + method.seed);
      }
      if (method.preservePrompts != null
          && method.preservePrompts.stream().anyMatch(ErasureRequest::blank)) {
        problems.add("method.preservePrompts must not contain empty prompts");
      }
    }
    if (evaluation != null
        && evaluation.prompts != null
        && evaluation.prompts.stream().anyMatch(ErasureRequest::blank)) {
      problems.add("evaluation.prompts must not contain empty prompts");
    }
    if (!problems.isEmpty()) {
      throw new InvalidRequestException("invalid erasure request: " + String.join("; ", problems));
    }
    return this;
  }

  private static void positive(List<String> problems, String field, Integer value) {
    if (value != null && value <= 0) {
      problems.add(field + " must be > 0 but was " + value);
    }
  }

  private static void nonNegative(List<String> problems, String field, Double value) {
    if (value != null && !(value >= 0 && Double.isFinite(value))) {
      problems.add(field + " must be a finite number >= 0 but was " + value);
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
