package io.concepterasure.trainer.erasure;

import static io.concepterasure.trainer.erasure.ErasureObjective.predictEach;
import static io.concepterasure.trainer.erasure.ErasureObjective.squaredError;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.concepterasure.trainer.nn.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's formalisation of "All but One" (docs/method.md):
 *
 * <pre>
 * L_guide  = || [eps_φ(x_t, c_e) - eps_φ(x_t, ∅)] - η [eps_θ(x_t, c_a) - eps_θ(x_t, ∅)] ||²
 * L_uncond = || eps_φ(x_t, ∅) - eps_θ(x_t, ∅) ||²
 * L_keep   = Σ_p || eps_φ(x_t, c_p) - eps_θ(x_t, c_p) ||²
 * L        = L_guide + λ L_uncond + μ L_keep
 * </pre>
 */
public final class AllButOneObjective implements ErasureObjective {
  private final float eta;
  private final float lambda;
  private final float mu;

  /**
   * @param eta η, the guidance strength toward the alternative
   * @param lambda λ, the weight of the unconditional-drift constraint
   * @param mu μ, the weight of the preservation term (0: off, and no preservation forward runs)
   */
  public AllButOneObjective(float eta, float lambda, float mu) {
    this.eta = eta;
    this.lambda = lambda;
    this.mu = mu;
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
    boolean keep = mu != 0f && !concept.preserve().isEmpty();
    List<NDArray> phiConditions = new ArrayList<>(List.of(concept.erase(), concept.empty()));
    List<NDArray> thetaConditions =
        new ArrayList<>(List.of(concept.alternative(), concept.empty()));
    if (keep) {
      phiConditions.addAll(concept.preserve());
      thetaConditions.addAll(concept.preserve());
    }
    NDList phiEps = predictEach(phi, xt, timestep, phiConditions);
    NDList thetaEps = predictEach(theta, xt, timestep, thetaConditions);
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
    if (keep) {
      NDArray keepLoss = null;
      for (int p = 0; p < concept.preserve().size(); p++) {
        NDArray term = squaredError(phiEps.get(2 + p), thetaEps.get(2 + p));
        keepLoss = keepLoss == null ? term : keepLoss.add(term);
      }
      total = total.add(Tensors.mul(keepLoss, mu));
      terms.put("keep", keepLoss);
    }
    return new ErasureLoss(total, terms);
  }
}
