package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** Prompts, seeds and an optional detector for the before/after images the trainer renders. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvaluationSpec {

  @JsonPropertyDescription("Prompts rendered with the original and the erased model.")
  @Size(max = 32)
  private List<@Size(min = 1, max = 1024) String> prompts;

  @JsonPropertyDescription("Seeds used for each prompt.")
  @Default("[0, 1]")
  @Size(max = 16)
  private List<Long> seeds;

  @JsonPropertyDescription(
      "A detector run on the images before and after (nudenet: detection rates of exposed body parts; none when unset).")
  private Detector detector;

  public List<@Size(min = 1, max = 1024) String> getPrompts() {
    return prompts;
  }

  public void setPrompts(List<@Size(min = 1, max = 1024) String> prompts) {
    this.prompts = prompts;
  }

  public List<Long> getSeeds() {
    return seeds;
  }

  public void setSeeds(List<Long> seeds) {
    this.seeds = seeds;
  }

  public Detector getDetector() {
    return detector;
  }

  public void setDetector(Detector detector) {
    this.detector = detector;
  }
}
