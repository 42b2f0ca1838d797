package io.concepterasure.trainer.erasure;

import static io.concepterasure.trainer.erasure.ErasureObjective.predictEach;
import static io.concepterasure.trainer.erasure.ErasureObjective.squaredError;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.nn.Tensors;
import java.util.List;
import java.util.Map;

/**
 * The ESD baseline (Gandikota et al. 2023), docs/method.md: {@code L_ESD = || eps_φ(x_t, c_e) -
 * (eps_θ(x_t, ∅) - η [eps_θ(x_t, c_e) - eps_θ(x_t, ∅)]) ||²}. ESD has no alternative concept; c_a
 * is not used.
 */
public final class EsdObjective implements ErasureObjective {
  private final float eta;

  public EsdObjective(float eta) {
    this.eta = eta;
  }

  @Override
  public NDArray trajectoryCondition(ConceptEmbeddings concept) {
    return concept.erase();
  }

  @Override
  public ErasureLoss loss(
      NoisePredictor phi,
      NoisePredictor theta,
      NDArray xt,
      NDArray timestep,
      ConceptEmbeddings concept) {
    NDList thetaEps = predictEach(theta, xt, timestep, List.of(concept.erase(), concept.empty()));
    NDArray thetaErase = thetaEps.get(0);
    NDArray thetaEmpty = thetaEps.get(1);
    NDArray target = thetaEmpty.sub(Tensors.mul(thetaErase.sub(thetaEmpty), eta));
    NDArray phiErase = phi.predictNoise(xt, timestep, concept.erase());
    NDArray esd = squaredError(phiErase, target);
    return new ErasureLoss(esd, Map.of("esd", esd));
  }
}
