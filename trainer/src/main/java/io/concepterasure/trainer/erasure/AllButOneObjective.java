package io.concepterasure.trainer.erasure;

import static io.concepterasure.trainer.erasure.ErasureObjective.predictEach;
import static io.concepterasure.trainer.erasure.ErasureObjective.squaredError;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.nn.Tensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's formalisation of "All but One" (docs/method.md):
 *
 * <pre>
 * L_guide  = || [eps_φ(x_t, c_e) - eps_φ(x_t, ∅)] - η [eps_θ(x_t, c_a) - eps_θ(x_t, ∅)] ||²
 * L_uncond = || eps_φ(x_t, ∅) - eps_θ(x_t, ∅) ||²
 * L        = L_guide + λ L_uncond
 * </pre>
 *
 * (μ L_keep is added by the trainer for every method: {@link Preservation}.)
 */
public final class AllButOneObjective implements ErasureObjective {
  private final float eta;
  private final float lambda;

  /**
   * @param eta η, the guidance strength toward the alternative
   * @param lambda λ, the weight of the unconditional-drift constraint
   */
  public AllButOneObjective(float eta, float lambda) {
    this.eta = eta;
    this.lambda = lambda;
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
    NDList phiEps = predictEach(phi, xt, timestep, List.of(concept.erase(), concept.empty()));
    NDList thetaEps =
        predictEach(theta, xt, timestep, List.of(concept.alternative(), concept.empty()));
    NDArray phiErase = phiEps.get(0);
    NDArray phiEmpty = phiEps.get(1);
    NDArray thetaAlternative = thetaEps.get(0);
    NDArray thetaEmpty = thetaEps.get(1);

    NDArray guide =
        squaredError(phiErase.sub(phiEmpty), Tensors.mul(thetaAlternative.sub(thetaEmpty), eta));
    NDArray uncond = squaredError(phiEmpty, thetaEmpty);
    NDArray total = guide.add(Tensors.mul(uncond, lambda));
    Map<String, NDArray> terms = new LinkedHashMap<>();
    terms.put("guide", guide);
    terms.put("uncond", uncond);
    return new ErasureLoss(total, terms);
  }
}
