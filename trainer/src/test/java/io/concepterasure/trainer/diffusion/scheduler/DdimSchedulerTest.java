package io.concepterasure.trainer.diffusion.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The DDIM options the fixtures do not cover: other spacings, x0 clipping, eta, config errors. */
class DdimSchedulerTest {

  private static DdimSchedulerConfig config(String json) throws Exception {
    return new ObjectMapper().readValue(json, DdimSchedulerConfig.class);
  }

  @Test
  void trailingAndLinspaceSpacingAsDiffusers() throws Exception {
    DdimScheduler trailing = new DdimScheduler(config("{\"timestep_spacing\": \"trailing\"}"));
    trailing.setTimesteps(10);
    // np.round(np.arange(1000, 0, -100)) - 1 (Lin et al. 2023, Table 2)
    assertThat(trailing.timesteps())
        .containsExactly(999, 899, 799, 699, 599, 499, 399, 299, 199, 99);
    DdimScheduler linspace = new DdimScheduler(config("{\"timestep_spacing\": \"linspace\"}"));
    linspace.setTimesteps(10);
    // np.linspace(0, 999, 10).round()[::-1]
    assertThat(linspace.timesteps())
        .containsExactly(999, 888, 777, 666, 555, 444, 333, 222, 111, 0);
  }

  @Test
  void clippedX0StaysInRangeAndTheRederivedNoiseIsConsistentWithIt() throws Exception {
    DdimScheduler s =
        new DdimScheduler(config("{\"clip_sample\": true, \"clip_sample_range\": 0.5}"));
    s.setTimesteps(10);
    int t = s.timesteps()[2];
    int prevT = t - 100;
    float[] acp = s.alphasCumprod();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray sample = m.randomNormal(new Shape(1, 4, 8, 8)).mul(3f);
      NDArray eps = m.randomNormal(new Shape(1, 4, 8, 8));
      DdimScheduler.Output plain = s.step(eps, t, sample);
      assertThat(plain.predOriginalSample().abs().max().getFloat()).isLessThanOrEqualTo(0.5f);

      DdimScheduler.Output out = s.step(eps, t, sample, 0f, true, null);
      // With eta 0, x_{t-1} = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps'; eps' must explain x_t from
      // the clipped x0.
      NDArray x0 = out.predOriginalSample();
      NDArray epsUsed =
          out.prevSample()
              .sub(x0.mul((float) Math.sqrt(acp[prevT])))
              .div((float) Math.sqrt(1 - acp[prevT]));
      NDArray rebuilt =
          x0.mul((float) Math.sqrt(acp[t])).add(epsUsed.mul((float) Math.sqrt(1 - acp[t])));
      assertThat(rebuilt.sub(sample).abs().max().getFloat()).isLessThan(1e-4f);
      assertThat(out.prevSample().sub(plain.prevSample()).abs().max().getFloat())
          .isGreaterThan(1e-3f);
    }
  }

  @Test
  void etaAddsScaledNoiseAndNeedsIt() throws Exception {
    DdimScheduler s = new DdimScheduler(config("{\"clip_sample\": false}"));
    s.setTimesteps(10);
    int t = s.timesteps()[4];
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray sample = m.randomNormal(new Shape(1, 4, 4, 4));
      NDArray eps = m.randomNormal(new Shape(1, 4, 4, 4));
      NDArray zero = m.zeros(new Shape(1, 4, 4, 4));
      NDArray withZeroNoise = s.step(eps, t, sample, 1f, false, zero).prevSample();
      NDArray withNoise = s.step(eps, t, sample, 1f, false, zero.add(1f)).prevSample();
      float[] acp = s.alphasCumprod();
      double variance = (1 - acp[t - 100]) / (1 - acp[t]) * (1 - acp[t] / acp[t - 100]);
      assertThat(withNoise.sub(withZeroNoise).mean().getFloat())
          .isCloseTo((float) Math.sqrt(variance), within(1e-5f));
      assertThatThrownBy(() -> s.step(eps, t, sample, 1f, false, null))
          .hasMessageContaining("variance noise");
    }
  }

  @Test
  void badConfigValuesNameTheField() {
    assertThatThrownBy(() -> new DdimScheduler(config("{\"beta_schedule\": \"cubic\"}")))
        .hasMessageContaining("beta_schedule");
    assertThatThrownBy(() -> config("{\"timestep_spacing\": \"random\"}"))
        .hasMessageContaining("timestep_spacing");
    assertThatThrownBy(() -> config("{\"thresholding\": true}"))
        .hasMessageContaining("thresholding");
  }

  @Test
  void zeroTerminalSnrRescaleEndsAtAlmostNoSignal() throws Exception {
    DdimScheduler s =
        new DdimScheduler(
            config(
                "{\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012, \"rescale_betas_zero_snr\": true}"));
    float[] acp = s.alphasCumprod();
    assertThat(acp[acp.length - 1]).isEqualTo((float) Math.pow(2, -24));
    assertThat(acp[0]).isCloseTo(1 - 0.00085f, within(1e-6f));
  }
}
