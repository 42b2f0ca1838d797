package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.List;

/** One erasure loss of method.md: where its x_t comes from and how L is computed from it. */
public interface ErasureObjective {

  /** The condition of the DDIM trajectory that produces x_t (c_e, or c_a for Concept Ablation). */
  NDArray trajectoryCondition(ConceptEmbeddings concept);

  /**
   * L for one x_t.
   *
   * @param phi the fine-tuned model; its predictions carry gradient
   * @param theta the frozen original, already {@link NoisePredictor#withoutGradient()}
   */
  ErasureLoss loss(
      NoisePredictor phi,
      NoisePredictor theta,
      NDArray xt,
      NDArray timestep,
      ConceptEmbeddings concept);

  /** {@code || a - b ||²} of method.md: the mean of the squared elements. */
  static NDArray squaredError(NDArray a, NDArray b) {
    return a.sub(b).square().mean();
  }

  /**
   * eps(x_t, c) for several conditions in one forward pass (the batch is the conditions times the
   * latents' batch), split back in the order given.
   */
  static NDList predictEach(
      NoisePredictor model, NDArray xt, NDArray timestep, List<NDArray> conditions) {
    int n = conditions.size();
    if (n == 1) {
      return new NDList(model.predictNoise(xt, timestep, conditions.get(0)));
    }
    NDList xs = new NDList();
    NDList ts = new NDList();
    NDList cs = new NDList();
    long batch = xt.getShape().get(0);
    for (NDArray c : conditions) {
      xs.add(xt);
      ts.add(timestep);
      cs.add(c.getShape().get(0) == batch ? c : c.repeat(0, batch));
    }
    NDArray out = model.predictNoise(NDArrays.concat(xs), NDArrays.concat(ts), NDArrays.concat(cs));
    return out.split(n);
  }
}
