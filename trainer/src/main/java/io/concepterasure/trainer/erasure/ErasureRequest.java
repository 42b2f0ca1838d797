package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.concepterasure.trainer.evaluation.EvaluationDetector;
import java.util.List;

/**
 * What {@code trainer erase} is asked to do, parsed once at the edge ({@link
 * RequestFile#toRequest}) and immutable from then on: the fields of the ConceptErasure spec that
 * concern the training, with the same names, every default applied and every bound checked.
 * Everything after the edge takes this object.
 */
public record ErasureRequest(
    Location model,
    List<Concept> concepts,
    Method method,
    Location output,
    EvaluationPlan evaluation) {

  public ErasureRequest {
    concepts = List.copyOf(concepts);
  }

  public record Location(String uri) {}

  /** A concept to erase; {@code alternative} is null when the request names none. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Concept(String erase, String alternative) {}

  /**
   * The method and its hyperparameters (docs/method.md); {@code precision} is null when the request
   * names none (the device decides: {@link Precision#defaultFor}). {@code gradientCheckpointing}
   * recomputes φ's resnets and transformer blocks in the backward pass (less memory, same result).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Method(
      ErasureMethod name,
      int iterations,
      double learningRate,
      double eta,
      double lambda,
      double guidanceScale,
      int ddimSteps,
      TrainableParameterSet parameters,
      long seed,
      List<String> preservePrompts,
      double preserveWeight,
      Precision precision,
      boolean gradientCheckpointing) {

    public Method {
      preservePrompts = List.copyOf(preservePrompts);
    }
  }

  /**
   * Unrelated prompts drawn before and after, the seeds they are drawn with, and the detector run
   * on the images (null: none).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record EvaluationPlan(
      List<String> prompts, List<Long> seeds, EvaluationDetector detector) {
    public EvaluationPlan {
      prompts = List.copyOf(prompts);
      seeds = List.copyOf(seeds);
    }
  }

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  /**
   * This request as canonical JSON, in the spec's field names: what erasure.json records and what a
   * resumed run must match.
   */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
