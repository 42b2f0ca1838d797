package io.concepterasure.trainer.erasure;

import static io.concepterasure.trainer.erasure.ErasureObjective.squaredError;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * The model-based Concept Ablation baseline (Kumari et al. 2023), docs/method.md: {@code L_CA = ||
 * eps_φ(x_t, c_e) - eps_θ(x_t, c_a) ||²}, with x_t from the c_a trajectory.
 */
public final class ConceptAblationObjective implements ErasureObjective {

  @Override
  public NDArray trajectoryCondition(ConceptEmbeddings concept) {
    return concept.alternative();
  }

  @Override
  public ErasureLoss loss(
      NoisePredictor phi,
      NoisePredictor theta,
      NDArray xt,
      NDArray timestep,
      ConceptEmbeddings concept) {
    NDArray target = theta.predictNoise(xt, timestep, concept.alternative());
    NDArray phiErase = phi.predictNoise(xt, timestep, concept.erase());
    NDArray ablation = squaredError(phiErase, target);
    return new ErasureLoss(ablation, Map.of("ablation", ablation));
  }
}
