package io.concepterasure.trainer.diffusion.scheduler;

import static io.concepterasure.trainer.ParityFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.ParityFixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DDIM against diffusers' DDIMScheduler: epsilon (sd1-tiny) and v_prediction (sd2-tiny). */
class DdimSchedulerParityTest {

  private static DdimScheduler scheduler(ParityFixture fixture) {
    return new DdimScheduler(
        DdimSchedulerConfig.read(fixture.dir().resolve("scheduler/scheduler_config.json")));
  }

  private static int[] ints(NDArray a) {
    return Arrays.stream(a.toLongArray()).mapToInt(Math::toIntExact).toArray();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void timestepsEqualDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      DdimScheduler s = scheduler(f);
      s.setTimesteps(10);
      assertThat(s.timesteps()).containsExactly(ints(f.tensor("scheduler.timesteps_10", m)));
      s.setTimesteps(50);
      assertThat(s.timesteps()).containsExactly(ints(f.tensor("scheduler.timesteps_50", m)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void oneStepEqualsDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      DdimScheduler s = scheduler(f);
      s.setTimesteps(
          Math.toIntExact(f.tensor("scheduler.step.num_inference_steps", m).toLongArray()[0]));
      int t = Math.toIntExact(f.tensor("scheduler.step.timestep", m).toLongArray()[0]);
      DdimScheduler.Output out =
          s.step(
              f.tensor("scheduler.step.model_output", m), t, f.tensor("scheduler.step.sample", m));
      float prev = maxAbsDiff(out.prevSample(), f.tensor("scheduler.step.prev_sample", m));
      float x0 =
          maxAbsDiff(out.predOriginalSample(), f.tensor("scheduler.step.pred_original_sample", m));
      System.out.printf(
          "%s DDIM step: prev_sample %.3g, pred_original_sample %.3g%n", model, prev, x0);
      assertThat(prev).isLessThanOrEqualTo(1e-5f);
      assertThat(x0).isLessThanOrEqualTo(1e-5f);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void addNoiseAndVelocityEqualDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      DdimScheduler s = scheduler(f);
      NDArray x0 = f.tensor("scheduler.add_noise.original_samples", m);
      NDArray noise = f.tensor("scheduler.add_noise.noise", m);
      int[] ts = ints(f.tensor("scheduler.add_noise.timesteps", m));
      float noisy =
          maxAbsDiff(s.addNoise(x0, noise, ts), f.tensor("scheduler.add_noise.noisy_samples", m));
      float v = maxAbsDiff(s.getVelocity(x0, noise, ts), f.tensor("scheduler.get_velocity", m));
      System.out.printf("%s add_noise %.3g, get_velocity %.3g%n", model, noisy, v);
      assertThat(noisy).isLessThanOrEqualTo(1e-5f);
      assertThat(v).isLessThanOrEqualTo(1e-5f);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void inverseTimestepsEqualDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      DdimInverseScheduler s =
          new DdimInverseScheduler(
              DdimSchedulerConfig.read(f.dir().resolve("scheduler/scheduler_config.json")));
      s.setTimesteps(10);
      assertThat(s.timesteps()).containsExactly(ints(f.tensor("inversion.timesteps", m)));
    }
  }

  @Test
  void stepBeforeSetTimestepsAndOutOfRangeStepsAreRejected() {
    DdimScheduler s = new DdimScheduler(DdimSchedulerConfig.defaults());
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.zeros(new Shape(1, 4, 2, 2));
      assertThatThrownBy(() -> s.step(x, 999, x)).hasMessageContaining("set_timesteps");
    }
    assertThatThrownBy(() -> s.setTimesteps(1001)).hasMessageContaining("num_train_timesteps=1000");
    assertThatThrownBy(() -> DdimSchedulerConfig.defaults().withPredictionType("x"))
        .hasMessageContaining("prediction_type");
  }
}
