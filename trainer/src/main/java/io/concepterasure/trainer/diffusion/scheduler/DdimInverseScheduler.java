package io.concepterasure.trainer.diffusion.scheduler;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Tensors;

/**
 * DDIM inversion, as diffusers' {@code DDIMInverseScheduler}: the deterministic DDIM update run
 * backwards, from a clean latent towards noise, so that sampling from the result reproduces the
 * image (used to find the noise that generates a given image).
 *
 * <p>It reads the same {@code scheduler_config.json} as {@link DdimScheduler}; {@code
 * set_alpha_to_one} chooses the alpha before the first timestep.
 */
public final class DdimInverseScheduler {
  private final DdimSchedulerConfig config;
  private final float[] alphasCumprod;
  private final float initialAlphaCumprod;
  private int numInferenceSteps;
  private int[] timesteps = new int[0];

  public DdimInverseScheduler(DdimSchedulerConfig config) {
    if (config.rescaleBetasZeroSnr()) {
      // diffusers' inverse scheduler keeps the exact zero terminal alpha here, which DdimScheduler
      // nudges.
      throw new IllegalArgumentException(
          "DDIM inversion with rescale_betas_zero_snr=true is not supported");
    }
    this.config = config;
    this.alphasCumprod = NoiseSchedule.alphasCumprod(config);
    this.initialAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
  }

  public DdimSchedulerConfig config() {
    return config;
  }

  /** Chooses the timesteps of an {@code steps}-step inversion, ascending. */
  public void setTimesteps(int steps) {
    this.timesteps = DdimScheduler.spacedTimesteps(config, steps);
    this.numInferenceSteps = steps;
  }

  public int[] timesteps() {
    return timesteps.clone();
  }

  /**
   * One inversion step: from the latent at the previous (lower) inference timestep to the one at
   * {@code timestep}, given the network's prediction at the lower one.
   *
   * @return the noisier latent, and the x0 it was derived from
   */
  public DdimScheduler.Output step(NDArray modelOutput, int timestep, NDArray sample) {
    if (numInferenceSteps == 0) {
      throw new IllegalStateException("set_timesteps must be called before step");
    }
    int n = config.numTrainTimesteps();
    int from = Math.min(timestep - n / numInferenceSteps, n - 1);
    if (timestep < 0 || timestep >= n) {
      throw new IllegalArgumentException(
          "timestep " + timestep + " is outside [0, " + n + ") of this scheduler");
    }
    float alphaProdT = from >= 0 ? alphasCumprod[from] : initialAlphaCumprod;
    float alphaProdTNext = alphasCumprod[timestep];
    float betaProdT = 1f - alphaProdT;
    NDArray[] x0AndEps =
        DdimScheduler.predict(
            modelOutput,
            sample,
            DdimScheduler.sqrt(alphaProdT),
            DdimScheduler.sqrt(betaProdT),
            config.predictionType());
    NDArray predOriginalSample = x0AndEps[0];
    if (config.clipSample()) {
      float range = config.clipSampleRange().floatValue();
      predOriginalSample = predOriginalSample.clip(-range, range);
    }
    NDArray direction = Tensors.mul(x0AndEps[1], DdimScheduler.sqrt(1f - alphaProdTNext));
    NDArray next =
        Tensors.mul(predOriginalSample, DdimScheduler.sqrt(alphaProdTNext)).add(direction);
    return new DdimScheduler.Output(next, predOriginalSample);
  }
}
