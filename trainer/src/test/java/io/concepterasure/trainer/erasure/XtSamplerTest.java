package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.scheduler.DdimSchedulerConfig;
import io.concepterasure.trainer.optim.IterationRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class XtSamplerTest {
  private NDManager manager;

  // Stable Diffusion's scheduler_config.json (clip_sample false).
  static DdimScheduler stableDiffusionDdim() {
    return new DdimScheduler(
        new DdimSchedulerConfig(
            1000,
            0.00085,
            0.012,
            "scaled_linear",
            null,
            false,
            false,
            1,
            "epsilon",
            false,
            null,
            "leading",
            false));
  }

  private final DdimScheduler ddim = stableDiffusionDdim();

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  @Test
  void zeroStepsGiveNoiseAtTheFirstTimestep() {
    NDArray xT = new IterationRandom(1, 0).normal(manager, new Shape(1, 4, 2, 2));
    XtSampler.Xt xt =
        new XtSampler(ddim, 50, 3f)
            .sample(
                (x, t, c) -> {
                  throw new AssertionError("no model call for k = 0");
                },
                xT,
                0,
                manager.ones(new Shape(1, 2, 3)),
                manager.zeros(new Shape(1, 2, 3)));
    assertThat(xt.latents()).isSameAs(xT);
    assertThat(xt.timestep()).isEqualTo(981);
  }

  @Test
  void kStepsOfClassifierFreeGuidedDdim() {
    // The prediction for a batch row is the mean of its context: 0 for ∅, 1 for the condition,
    // so the guided eps is 0 + s (1 - 0) = s at every step.
    List<Float> timestepsSeen = new ArrayList<>();
    NoisePredictor model =
        (x, t, c) -> {
          timestepsSeen.add(t.toFloatArray()[0]);
          assertThat(x.getShape().get(0)).as("∅ and the condition in one batch").isEqualTo(2);
          return x.zerosLike().add(c.reshape(2, -1).mean(new int[] {1}).reshape(2, 1, 1, 1));
        };
    float s = 3f;
    NDArray xT = new IterationRandom(1, 0).normal(manager, new Shape(1, 4, 2, 2));
    XtSampler.Xt xt =
        new XtSampler(ddim, 10, s)
            .sample(
                model, xT, 3, manager.ones(new Shape(1, 2, 3)), manager.zeros(new Shape(1, 2, 3)));

    int[] timesteps = ddim.timesteps();
    float[] alphasCumprod = ddim.alphasCumprod();
    float[] expected = xT.toFloatArray();
    for (int i = 0; i < 3; i++) {
      double a = alphasCumprod[timesteps[i]];
      double aPrevious = alphasCumprod[timesteps[i + 1]];
      for (int j = 0; j < expected.length; j++) {
        double x0 = (expected[j] - Math.sqrt(1 - a) * s) / Math.sqrt(a);
        expected[j] = (float) (Math.sqrt(aPrevious) * x0 + Math.sqrt(1 - aPrevious) * s);
      }
    }
    assertThat(timestepsSeen).containsExactly(901f, 801f, 701f);
    assertThat(xt.timestep()).isEqualTo(601);
    float[] actual = xt.latents().toFloatArray();
    for (int j = 0; j < expected.length; j++) {
      assertThat(actual[j]).isCloseTo(expected[j], within(1e-4f));
    }
  }

  @Test
  void kOutsideTheScheduleIsRefused() {
    NDArray xT = manager.zeros(new Shape(1, 4, 2, 2));
    assertThatThrownBy(() -> new XtSampler(ddim, 10, 3f).sample((x, t, c) -> x, xT, 10, xT, xT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[0, 10)");
  }
}
