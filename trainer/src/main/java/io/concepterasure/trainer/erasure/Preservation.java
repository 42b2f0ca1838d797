package io.concepterasure.trainer.erasure;

import static io.concepterasure.trainer.erasure.ErasureObjective.squaredError;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * L_keep of docs/method.md, added to every method's loss: each iteration draws {@code draws}
 * prompts c_r from the retain pool, samples each one's own x_t^r from its trajectory under φ, and
 * adds μ Σ_r || eps_φ(x_t^r, c_r) - eps_θ(x_t^r, c_r) ||².
 *
 * @param prompts the pool R, for logs and erasure.json
 * @param embeddings c_r for each prompt, [1, L, D], in the same order
 * @param weight μ (0: off, and nothing is drawn)
 * @param draws prompts drawn per iteration (with replacement)
 */
public record Preservation(
    List<String> prompts, List<NDArray> embeddings, float weight, int draws) {

  /** Retain prompts drawn per iteration by default: each costs one more x_t trajectory. */
  public static final int DEFAULT_DRAWS = 1;

  public Preservation {
    prompts = List.copyOf(prompts);
    embeddings = List.copyOf(embeddings);
    if (prompts.size() != embeddings.size()) {
      throw new IllegalArgumentException("one embedding per retain prompt is needed");
    }
    if (draws < 0) {
      throw new IllegalArgumentException("draws must be >= 0 but was " + draws);
    }
  }

  /** No L_keep. */
  public static Preservation none() {
    return new Preservation(List.of(), List.of(), 0f, 0);
  }

  public boolean active() {
    return weight != 0f && draws > 0 && !prompts.isEmpty();
  }

  /** {@code || eps_φ(x_t^r, c_r) - eps_θ(x_t^r, c_r) ||²} for one retain prompt. */
  public static NDArray keep(
      NoisePredictor phi, NoisePredictor theta, NDArray xt, NDArray timestep, NDArray condition) {
    NDArray target = theta.predictNoise(xt, timestep, condition);
    return squaredError(phi.predictNoise(xt, timestep, condition), target);
  }
}
