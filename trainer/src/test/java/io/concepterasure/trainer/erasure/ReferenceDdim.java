package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;

/**
 * Test stand-in for the runtime's DDIM scheduler, with Stable Diffusion's schedule (scaled_linear
 * betas 0.00085..0.012 over 1000 steps, "leading" spacing, steps_offset 1, set_alpha_to_one false,
 * epsilon prediction, no clipping), as diffusers' DDIMScheduler with eta 0.
 */
final class ReferenceDdim implements SamplingScheduler {
  static final int TRAIN_STEPS = 1000;
  final double[] alphasCumprod = new double[TRAIN_STEPS];

  ReferenceDdim() {
    double start = Math.sqrt(0.00085);
    double end = Math.sqrt(0.012);
    double product = 1;
    for (int i = 0; i < TRAIN_STEPS; i++) {
      double sqrtBeta = start + (end - start) * i / (TRAIN_STEPS - 1);
      product *= 1 - sqrtBeta * sqrtBeta;
      alphasCumprod[i] = product;
    }
  }

  @Override
  public int[] timesteps(int inferenceSteps) {
    int ratio = TRAIN_STEPS / inferenceSteps;
    int[] out = new int[inferenceSteps];
    for (int i = 0; i < inferenceSteps; i++) {
      out[i] = (inferenceSteps - 1 - i) * ratio + 1;
    }
    return out;
  }

  @Override
  public NDArray step(NDArray eps, int timestep, NDArray sample, int inferenceSteps) {
    int previous = timestep - TRAIN_STEPS / inferenceSteps;
    double alpha = alphasCumprod[timestep];
    double alphaPrevious = previous >= 0 ? alphasCumprod[previous] : alphasCumprod[0];
    NDArray x0 = sample.sub(eps.mul(Math.sqrt(1 - alpha))).div(Math.sqrt(alpha));
    return x0.mul(Math.sqrt(alphaPrevious)).add(eps.mul(Math.sqrt(1 - alphaPrevious)));
  }
}
