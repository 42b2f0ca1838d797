package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.optim.IterationRandom;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each loss of docs/method.md against the same formula computed element by element in Java. */
class ErasureObjectiveTest {
  private NDManager manager;
  private TinyCrossAttentionDenoiser theta;
  private TinyCrossAttentionDenoiser phi;
  private ConceptEmbeddings concept;
  private NDArray xt;
  private NDArray t;

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
    theta = new TinyCrossAttentionDenoiser(manager, 7);
    phi = new TinyCrossAttentionDenoiser(manager, 7);
    // φ one fine-tuning away from θ, so that every term of the loss is non-zero.
    IterationRandom random = new IterationRandom(3, 0);
    for (Parameter p : phi.namedParameters().values()) {
      p.array().addi(random.normal(manager, p.shape()).mul(0.05));
    }
    IterationRandom embeddings = new IterationRandom(5, 0);
    Shape text = new Shape(1, 5, TinyCrossAttentionDenoiser.TEXT_DIM);
    concept =
        new ConceptEmbeddings(
            "circle",
            "square",
            embeddings.normal(manager, text),
            embeddings.normal(manager, text),
            embeddings.normal(manager, text));
    xt = embeddings.normal(manager, new Shape(1, 4, 4, 4));
    t = NoisePredictor.timestep(manager, 501, 1);
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  private float[] eps(NoisePredictor model, NDArray context) {
    return model.predictNoise(xt, t, context).toFloatArray();
  }

  private static double meanSquare(float[] a, float[] b, double scaleB) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - scaleB * b[i];
      sum += d * d;
    }
    return sum / a.length;
  }

  private static float[] minus(float[] a, float[] b) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(floats = {0f, 1f, 2.5f})
  void allButOneGuideTermIsTheFormulaAndEtaScalesItsTarget(float eta) {
    Map<String, Double> loss =
        new AllButOneObjective(eta, 0.7f)
            .loss(phi, theta.withoutGradient(), xt, t, concept)
            .values();

    float[] phiGuidance = minus(eps(phi, concept.erase()), eps(phi, concept.empty()));
    float[] thetaGuidance = minus(eps(theta, concept.alternative()), eps(theta, concept.empty()));
    double guide = meanSquare(phiGuidance, thetaGuidance, eta);
    double uncond = meanSquare(eps(phi, concept.empty()), eps(theta, concept.empty()), 1);

    assertThat(loss.get("guide")).isCloseTo(guide, within(1e-6 * Math.max(1, guide)));
    assertThat(loss.get("uncond")).isCloseTo(uncond, within(1e-6));
    assertThat(loss.get("loss")).isCloseTo(guide + 0.7 * uncond, within(1e-6 * Math.max(1, guide)));
    assertThat(loss).doesNotContainKey("keep");
  }

  @Test
  void etaChangesTheGuideTerm() {
    double atOne =
        new AllButOneObjective(1f, 1f).loss(phi, theta, xt, t, concept).values().get("guide");
    double atTwo =
        new AllButOneObjective(2f, 1f).loss(phi, theta, xt, t, concept).values().get("guide");
    assertThat(atTwo).isNotCloseTo(atOne, within(1e-4 * atOne));
  }

  @Test
  void withLambdaZeroTheUncondTermHasNoEffect() {
    Map<String, Double> loss =
        new AllButOneObjective(1f, 0f).loss(phi, theta, xt, t, concept).values();
    assertThat(loss.get("uncond")).as("the term exists and is non-zero").isGreaterThan(1e-5);
    assertThat(loss.get("loss")).isEqualTo(loss.get("guide"));
  }

  @Test
  void preservationTermIsTheRetainPromptsOwnPredictionHeldInPlace() {
    NDArray retain = new IterationRandom(9, 0).normal(manager, concept.erase().getShape());
    double keep = Preservation.keep(phi, theta.withoutGradient(), xt, t, retain).getFloat();
    assertThat(keep).isCloseTo(meanSquare(eps(phi, retain), eps(theta, retain), 1), within(1e-7));
    assertThat(keep).as("φ moved, so the term is not zero").isGreaterThan(1e-6);
    assertThat(Preservation.keep(theta, theta, xt, t, retain).getFloat()).isZero();
  }

  @Test
  void esdTargetsTheNegativelyGuidedOriginal() {
    float eta = 1.5f;
    Map<String, Double> loss = new EsdObjective(eta).loss(phi, theta, xt, t, concept).values();
    float[] empty = eps(theta, concept.empty());
    float[] erase = eps(theta, concept.erase());
    float[] phiErase = eps(phi, concept.erase());
    double sum = 0;
    for (int i = 0; i < empty.length; i++) {
      double target = empty[i] - eta * (erase[i] - empty[i]);
      sum += (phiErase[i] - target) * (phiErase[i] - target);
    }
    assertThat(loss.get("esd")).isCloseTo(sum / empty.length, within(1e-6));
    assertThat(loss.get("loss")).isEqualTo(loss.get("esd"));
    assertThat(new EsdObjective(eta).trajectoryCondition(concept)).isSameAs(concept.erase());
  }

  @Test
  void conceptAblationTargetsTheOriginalsAlternativeOnItsTrajectory() {
    ConceptAblationObjective objective = new ConceptAblationObjective();
    Map<String, Double> loss = objective.loss(phi, theta, xt, t, concept).values();
    double expected = meanSquare(eps(phi, concept.erase()), eps(theta, concept.alternative()), 1);
    assertThat(loss.get("ablation")).isCloseTo(expected, within(1e-6));
    assertThat(objective.trajectoryCondition(concept)).isSameAs(concept.alternative());
  }

  @Test
  void allButOneIsExactlyZeroWhenPhiAlreadyPredictsTheAlternative() {
    // φ = θ and c_e = c_a: the erased model already draws the alternative, nothing to learn.
    ConceptEmbeddings same =
        new ConceptEmbeddings(
            "square", "square", concept.alternative(), concept.alternative(), concept.empty());
    Map<String, Double> loss =
        new AllButOneObjective(1f, 1f).loss(theta, theta, xt, t, same).values();
    assertThat(loss.get("loss")).isCloseTo(0.0, within(1e-10));
  }
}
