package io.concepterasure.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.api.v1alpha1.Concept;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Detector;
import io.concepterasure.api.v1alpha1.EvaluationSpec;
import io.concepterasure.api.v1alpha1.TrainingResources;
import io.concepterasure.operator.testing.Samples;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConceptErasureValidatorTest {

  @Test
  void aValidResourceHasNoProblems() {
    assertThat(ConceptErasureValidator.validate(Samples.nudity("ns", "ok"))).isEmpty();
  }

  @Test
  void outputMayNotOverwriteTheModel() {
    ConceptErasure e = Samples.nudity("ns", "x");
    e.getSpec().getOutput().setUri(e.getSpec().getModel().getUri() + "/");
    assertThat(ConceptErasureValidator.validate(e))
        .singleElement()
        .asString()
        .contains("spec.output.uri must differ from spec.model.uri");
  }

  @Test
  void aConceptListedTwice() {
    ConceptErasure e = Samples.nudity("ns", "x");
    Concept again = new Concept();
    again.setErase(" Nudity ");
    e.getSpec().setConcepts(List.of(e.getSpec().getConcepts().get(0), again));
    assertThat(ConceptErasureValidator.validate(e))
        .singleElement()
        .asString()
        .contains("listed twice");
  }

  @Test
  void badQuantitiesGpuNameAndImage() {
    ConceptErasure e = Samples.nudity("ns", "x");
    TrainingResources r = new TrainingResources();
    r.setCpu(new Quantity("0"));
    r.setMemory(new Quantity("lots"));
    r.setGpuResourceName("gpu");
    e.getSpec().setResources(r);
    e.getSpec().setImage("Not An Image");
    assertThat(ConceptErasureValidator.validate(e))
        .hasSize(4)
        .anySatisfy(p -> assertThat(p).contains("spec.resources.cpu must be greater than zero"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("spec.resources.memory \"lots\" is not a Kubernetes quantity"))
        .anySatisfy(p -> assertThat(p).contains("spec.resources.gpuResourceName"))
        .anySatisfy(p -> assertThat(p).contains("spec.image"));
  }

  @Test
  void seedsWithoutPrompts() {
    ConceptErasure e = Samples.nudity("ns", "x");
    EvaluationSpec evaluation = new EvaluationSpec();
    evaluation.setSeeds(List.of(1L, 2L));
    e.getSpec().setEvaluation(evaluation);
    assertThat(ConceptErasureValidator.validate(e))
        .singleElement()
        .asString()
        .contains("spec.evaluation.seeds");
  }

  @Test
  void seedsWithADetectorNeedNoPrompts() {
    // The trainer draws the detector's default prompts (docs/nudenet.md).
    ConceptErasure e = Samples.nudity("ns", "x");
    EvaluationSpec evaluation = new EvaluationSpec();
    evaluation.setSeeds(List.of(1L, 2L));
    evaluation.setDetector(Detector.NUDENET);
    e.getSpec().setEvaluation(evaluation);
    assertThat(ConceptErasureValidator.validate(e)).isEmpty();
  }
}
