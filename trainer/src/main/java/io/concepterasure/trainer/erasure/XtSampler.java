package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.nn.Tensors;
import java.util.List;

/**
 * Where x_t comes from (docs/method.md): k DDIM steps of the current φ from x_T, conditioned with
 * classifier-free guidance scale s. Run outside any gradient collector, so nothing is recorded.
 */
public final class XtSampler {
  private final DdimScheduler scheduler;
  private final int ddimSteps;
  private final float guidanceScale;
  private final int[] timesteps;

  /** Owns {@code scheduler}: sets its timesteps to {@code ddimSteps}. */
  public XtSampler(DdimScheduler scheduler, int ddimSteps, float guidanceScale) {
    this.scheduler = scheduler;
    this.ddimSteps = ddimSteps;
    this.guidanceScale = guidanceScale;
    scheduler.setTimesteps(ddimSteps);
    this.timesteps = scheduler.timesteps();
  }

  public int ddimSteps() {
    return ddimSteps;
  }

  /** x_t and the timestep t it sits at. */
  public record Xt(NDArray latents, int timestep) {}

  /**
   * @param k the number of DDIM steps to run, 0 ≤ k < ddimSteps (0 returns x_T itself)
   */
  public Xt sample(NoisePredictor phi, NDArray xT, int k, NDArray condition, NDArray empty) {
    if (k < 0 || k >= ddimSteps) {
      throw new IllegalArgumentException("k must be in [0, " + ddimSteps + ") but was " + k);
    }
    // A clamped x0 needs its noise re-derived, or the step leaves the clamped trajectory.
    boolean clips = scheduler.config().clipSample();
    NDArray x = xT;
    for (int i = 0; i < k; i++) {
      NDArray t = NoisePredictor.timestep(x.getManager(), timesteps[i], x.getShape().get(0));
      NDList eps = ErasureObjective.predictEach(phi, x, t, List.of(empty, condition));
      NDArray guided = eps.get(0).add(Tensors.mul(eps.get(1).sub(eps.get(0)), guidanceScale));
      x = scheduler.step(guided, timesteps[i], x, 0f, clips, null).prevSample();
    }
    return new Xt(x, timesteps[k]);
  }
}
