package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.optim.IterationRandom;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ErasureTrainerTest {
  private static final Shape LATENT = new Shape(1, 4, 4, 4);
  private NDManager manager;
  private List<ConceptEmbeddings> concepts;

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
    IterationRandom random = new IterationRandom(11, 0);
    Shape text = new Shape(1, 3, TinyCrossAttentionDenoiser.TEXT_DIM);
    NDArray empty = random.normal(manager, text);
    concepts =
        List.of(
            new ConceptEmbeddings(
                "circle",
                "square",
                random.normal(manager, text),
                random.normal(manager, text),
                empty),
            new ConceptEmbeddings("cross", "", random.normal(manager, text), empty, empty));
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  private ErasureTrainer trainer(
      TinyCrossAttentionDenoiser phi,
      TinyCrossAttentionDenoiser theta,
      ErasureObjective objective,
      TrainableParameterSet set,
      int iterations) {
    return new ErasureTrainer(
        phi,
        theta,
        objective,
        set,
        new XtSampler(XtSamplerTest.stableDiffusionDdim(), 5, 3f),
        concepts,
        new ErasureTrainer.LoopParameters(iterations, 42, 1e-2f, LATENT));
  }

  private static Map<String, float[]> values(TinyCrossAttentionDenoiser model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    model.namedParameters().forEach((name, p) -> out.put(name, p.array().toFloatArray()));
    return out;
  }

  @ParameterizedTest
  @EnumSource(TrainableParameterSet.class)
  void onlyTheChosenSetMovesAndThetaNeverChanges(TrainableParameterSet set) {
    TinyCrossAttentionDenoiser theta = new TinyCrossAttentionDenoiser(manager, 7);
    TinyCrossAttentionDenoiser phi = new TinyCrossAttentionDenoiser(manager, 7);
    Map<String, float[]> thetaBefore = values(theta);
    Map<String, float[]> phiBefore = values(phi);
    List<String> withGradient = new ArrayList<>();
    try (ErasureTrainer trainer = trainer(phi, theta, new AllButOneObjective(1f, 1f), set, 3)) {
      trainer.train(
          (iteration, losses, t) ->
              phi.namedParameters()
                  .forEach(
                      (name, p) -> {
                        if (iteration == 0 && p.array().hasGradient()) {
                          withGradient.add(name);
                        }
                      }));
    }
    Map<String, float[]> phiAfter = values(phi);
    List<String> expected = phi.namedParameters().keySet().stream().filter(set::includes).toList();
    assertThat(withGradient).containsExactlyElementsOf(expected);
    phiBefore.forEach(
        (name, before) -> {
          if (set.includes(name)) {
            assertThat(phiAfter.get(name)).as(name + " is trained").isNotEqualTo(before);
          } else {
            assertThat(phiAfter.get(name))
                .as(name + " is outside " + set.specName())
                .isEqualTo(before);
          }
        });
    values(theta)
        .forEach(
            (name, after) -> assertThat(after).as("θ " + name).isEqualTo(thetaBefore.get(name)));
  }

  @Test
  void parameterSetsSelectByDiffusersName() {
    Map<String, Parameter> params = new TinyCrossAttentionDenoiser(manager, 1).namedParameters();
    assertThat(TrainableParameterSet.CROSS_ATTENTION_KV.select(params).keySet())
        .containsExactly("transformer.attn2.to_k.weight", "transformer.attn2.to_v.weight");
    assertThat(TrainableParameterSet.CROSS_ATTENTION.select(params).keySet())
        .containsExactly(
            "transformer.attn2.to_q.weight",
            "transformer.attn2.to_k.weight",
            "transformer.attn2.to_v.weight",
            "transformer.attn2.to_out.0.weight",
            "transformer.attn2.to_out.0.bias");
    // ESD's noxattn: no cross-attention, conv_in/conv_out, time embedding or norms.
    assertThat(TrainableParameterSet.NON_CROSS_ATTENTION.select(params).keySet())
        .containsExactlyInAnyOrder(
            "transformer.attn1.to_q.weight",
            "transformer.attn1.to_k.weight",
            "transformer.attn1.to_v.weight",
            "transformer.attn1.to_out.0.weight",
            "transformer.attn1.to_out.0.bias");
    assertThat(TrainableParameterSet.ALL.select(params)).hasSize(params.size());
    assertThatThrownBy(
            () ->
                TrainableParameterSet.CROSS_ATTENTION.select(
                    Map.of("conv_in.weight", params.get("conv_in.weight"))))
        .hasMessageContaining("crossAttention selects no parameter");
    assertThatThrownBy(() -> TrainableParameterSet.fromSpecName("attention"))
        .hasMessage(
            "unknown parameter set 'attention'; expected one of crossAttention, crossAttentionKV, nonCrossAttention, all");
  }

  @Test
  void lossGoesDownOnAFixedXt() {
    // Enough steps on the same concept pair and the erased prompt's guidance approaches the target.
    TinyCrossAttentionDenoiser theta = new TinyCrossAttentionDenoiser(manager, 7);
    TinyCrossAttentionDenoiser phi = new TinyCrossAttentionDenoiser(manager, 7);
    List<Double> losses = new ArrayList<>();
    try (ErasureTrainer trainer =
        new ErasureTrainer(
            phi,
            theta,
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.CROSS_ATTENTION,
            new XtSampler(XtSamplerTest.stableDiffusionDdim(), 1, 3f),
            concepts.subList(0, 1),
            new ErasureTrainer.LoopParameters(60, 42, 1e-2f, LATENT))) {
      trainer.train((iteration, l, t) -> losses.add(l.get("loss")));
    }
    double first =
        losses.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double last =
        losses.subList(55, 60).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    assertThat(last).isLessThan(first * 0.5);
  }

  /** A copy of φ's forward that records, per call, the distinct text conditions of its batch. */
  private static TrainableNoisePredictor recording(
      TinyCrossAttentionDenoiser model, List<List<float[]>> calls) {
    return TrainableNoisePredictor.of(
        model,
        (x, t, c) -> {
          List<float[]> conditions = new ArrayList<>();
          for (long b = 0; b < c.getShape().get(0); b++) {
            conditions.add(c.get(b).toFloatArray());
          }
          calls.add(conditions);
          return model.predictNoise(x, t, c);
        });
  }

  private static boolean uses(List<List<float[]>> calls, NDArray condition) {
    float[] wanted = condition.toFloatArray();
    return calls.stream().flatMap(List::stream).anyMatch(c -> Arrays.equals(c, wanted));
  }

  @Test
  void preservationAddsMuTimesKeepOnTheRetainPromptsOwnTrajectory() {
    Shape text = new Shape(1, 3, TinyCrossAttentionDenoiser.TEXT_DIM);
    NDArray retain = new IterationRandom(12, 0).normal(manager, text);
    List<List<float[]>> calls = new ArrayList<>();
    List<Map<String, Double>> losses = new ArrayList<>();
    TinyCrossAttentionDenoiser phi = new TinyCrossAttentionDenoiser(manager, 7);
    TinyCrossAttentionDenoiser theta = new TinyCrossAttentionDenoiser(manager, 7);
    // 2 DDIM steps and 8 iterations: some retain trajectories run a step (k = 1), so φ is asked
    // for the retain prompt beside ∅ before any loss is computed.
    try (ErasureTrainer trainer =
        new ErasureTrainer(
            recording(phi, calls),
            theta,
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.CROSS_ATTENTION,
            new XtSampler(XtSamplerTest.stableDiffusionDdim(), 2, 3f),
            concepts.subList(1, 2),
            new ErasureTrainer.LoopParameters(8, 42, 1e-2f, LATENT),
            new Preservation(List.of("a retained prompt"), List.of(retain), 0.5f, 1))) {
      trainer.train((i, l, t) -> losses.add(l));
    }
    for (Map<String, Double> l : losses) {
      assertThat(l.get("keep")).isNotNegative();
      assertThat(l.get("loss"))
          .isCloseTo(l.get("guide") + l.get("uncond") + 0.5 * l.get("keep"), within(1e-5));
    }
    assertThat(losses.stream().mapToDouble(l -> l.get("keep")).max().orElseThrow())
        .as("φ moves away from θ on the retain prompt as it erases, and L_keep sees it")
        .isGreaterThan(0);
    assertThat(uses(calls, retain)).isTrue();
    // The retain prompt's x_t comes from its own trajectory: a sampling call pairs ∅ with it.
    float[] empty = concepts.get(1).empty().toFloatArray();
    float[] wanted = retain.toFloatArray();
    assertThat(
            calls.stream()
                .anyMatch(
                    c ->
                        c.size() == 2
                            && Arrays.equals(c.get(0), empty)
                            && Arrays.equals(c.get(1), wanted)))
        .isTrue();
  }

  @Test
  void withMuZeroNoRetainPromptIsDrawnAndTheRunIsUnchanged() {
    Shape text = new Shape(1, 3, TinyCrossAttentionDenoiser.TEXT_DIM);
    NDArray retain = new IterationRandom(12, 0).normal(manager, text);
    List<List<float[]>> calls = new ArrayList<>();
    TinyCrossAttentionDenoiser off = new TinyCrossAttentionDenoiser(manager, 7);
    TinyCrossAttentionDenoiser plain = new TinyCrossAttentionDenoiser(manager, 7);
    TinyCrossAttentionDenoiser theta = new TinyCrossAttentionDenoiser(manager, 7);
    for (var pair :
        List.of(
            Map.entry(off, new Preservation(List.of("r"), List.of(retain), 0f, 1)),
            Map.entry(plain, Preservation.none()))) {
      try (ErasureTrainer trainer =
          new ErasureTrainer(
              recording(pair.getKey(), calls),
              theta,
              new AllButOneObjective(1f, 1f),
              TrainableParameterSet.CROSS_ATTENTION,
              new XtSampler(XtSamplerTest.stableDiffusionDdim(), 2, 3f),
              concepts,
              new ErasureTrainer.LoopParameters(3, 42, 1e-2f, LATENT),
              pair.getValue())) {
        trainer.train((i, l, t) -> assertThat(l).doesNotContainKey("keep"));
      }
    }
    assertThat(uses(calls, retain)).isFalse();
    values(off).forEach((name, v) -> assertThat(v).as(name).isEqualTo(values(plain).get(name)));
  }

  @Test
  void conceptsAreTakenInTurn() {
    List<String> seen = new ArrayList<>();
    AllButOneObjective inner = new AllButOneObjective(1f, 1f);
    ErasureObjective recording =
        new ErasureObjective() {
          @Override
          public NDArray trajectoryCondition(ConceptEmbeddings concept) {
            return inner.trajectoryCondition(concept);
          }

          @Override
          public ErasureLoss loss(
              NoisePredictor phi,
              NoisePredictor theta,
              NDArray xt,
              NDArray t,
              ConceptEmbeddings c) {
            seen.add(c.erasePrompt());
            return inner.loss(phi, theta, xt, t, c);
          }
        };
    try (ErasureTrainer trainer =
        trainer(
            new TinyCrossAttentionDenoiser(manager, 7),
            new TinyCrossAttentionDenoiser(manager, 7),
            recording,
            TrainableParameterSet.CROSS_ATTENTION,
            5)) {
      trainer.train((i, l, t) -> {});
    }
    assertThat(seen).containsExactly("circle", "cross", "circle", "cross", "circle");
  }

  @Test
  void aRunKilledAndResumedEndsWithTheWeightsOfAnUninterruptedRun(@TempDir Path dir)
      throws Exception {
    int iterations = 7;
    TinyCrossAttentionDenoiser uninterrupted = new TinyCrossAttentionDenoiser(manager, 7);
    try (ErasureTrainer trainer =
        trainer(
            uninterrupted,
            new TinyCrossAttentionDenoiser(manager, 7),
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.ALL,
            iterations)) {
      trainer.train((i, l, t) -> {});
    }

    Path stateFile = dir.resolve("state.safetensors");
    TinyCrossAttentionDenoiser killed = new TinyCrossAttentionDenoiser(manager, 7);
    try (ErasureTrainer trainer =
        trainer(
            killed,
            new TinyCrossAttentionDenoiser(manager, 7),
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.ALL,
            iterations)) {
      assertThatThrownBy(
              () ->
                  trainer.train(
                      (i, l, t) -> {
                        if (i == 2) {
                          try (NDManager owner = manager.newSubManager()) {
                            TrainingCheckpointFile.write(stateFile, t.checkpoint(owner));
                          } catch (IOException e) {
                            throw new UncheckedIOException(e);
                          }
                        }
                        if (i == 4) {
                          throw new IllegalStateException("killed");
                        }
                      }))
          .hasMessage("killed");
    }

    TinyCrossAttentionDenoiser resumed = new TinyCrossAttentionDenoiser(manager, 7);
    List<Integer> ran = new ArrayList<>();
    try (ErasureTrainer trainer =
        trainer(
            resumed,
            new TinyCrossAttentionDenoiser(manager, 7),
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.ALL,
            iterations)) {
      trainer.restore(TrainingCheckpointFile.read(stateFile, manager));
      trainer.train((i, l, t) -> ran.add(i));
    }
    assertThat(ran).containsExactly(3, 4, 5, 6);
    Map<String, float[]> expected = values(uninterrupted);
    Map<String, float[]> before = values(new TinyCrossAttentionDenoiser(manager, 7));
    values(resumed)
        .forEach(
            (name, actual) -> {
              float[] want = expected.get(name);
              for (int i = 0; i < want.length; i++) {
                assertThat(Math.abs(actual[i] - want[i]))
                    .as(name + "[" + i + "]")
                    .isLessThanOrEqualTo(1e-6f);
              }
              assertThat(actual).as(name + " was trained").isNotEqualTo(before.get(name));
            });
  }

  @Test
  void aNonFiniteLossStopsAndNamesTheIteration() {
    TinyCrossAttentionDenoiser phi = new TinyCrossAttentionDenoiser(manager, 7);
    try (ErasureTrainer trainer =
        trainer(
            phi,
            new TinyCrossAttentionDenoiser(manager, 7),
            new AllButOneObjective(1f, 1f),
            TrainableParameterSet.CROSS_ATTENTION,
            10)) {
      assertThatThrownBy(
              () ->
                  trainer.train(
                      (i, l, t) -> {
                        if (i == 1) {
                          phi.namedParameters().get("conv_out.bias").array().muli(Float.NaN);
                        }
                      }))
          .isInstanceOf(NonFiniteLossException.class)
          .hasMessageStartingWith("loss is not finite at iteration 2")
          .satisfies(e -> assertThat(((NonFiniteLossException) e).iteration()).isEqualTo(2));
    }
  }

  @Test
  void iterationsMustBePositive() {
    assertThatThrownBy(() -> new ErasureTrainer.LoopParameters(0, 1, 1e-4f, LATENT))
        .hasMessage("iterations must be > 0 but was 0");
  }
}
