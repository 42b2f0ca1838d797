package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;

/**
 * The deterministic DDIM sampling the x_t trajectory needs: the runtime's DDIM scheduler, seen
 * without its mutable state so that a trajectory of any length can be drawn each iteration.
 */
public interface SamplingScheduler {

  /** The descending timesteps of an inference schedule of {@code inferenceSteps} steps. */
  int[] timesteps(int inferenceSteps);

  /** One DDIM step (η_DDIM = 0) from {@code timestep} to the schedule's next timestep. */
  NDArray step(NDArray modelOutput, int timestep, NDArray sample, int inferenceSteps);
}
