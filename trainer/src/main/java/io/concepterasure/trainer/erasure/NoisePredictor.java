package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Arrays;

/**
 * eps(x_t, t, c): a UNet's noise prediction, as {@code UNet2DConditionModel.forward(sample,
 * timestep, encoderHiddenStates)}. The erasure methods need nothing else of the network, so they
 * are written and tested against this.
 */
@FunctionalInterface
public interface NoisePredictor {

  /**
   * @param sample latents [B, C, H, W]
   * @param timestep [B] float32
   * @param encoderHiddenStates text embeddings [B, L, D]
   * @return the predicted noise, [B, C, H, W]
   */
  NDArray predictNoise(NDArray sample, NDArray timestep, NDArray encoderHiddenStates);

  /**
   * This predictor with its output cut from the autograd graph: every eps_θ of method.md goes
   * through it, so no gradient can reach the frozen model even when it shares inputs with φ.
   */
  default NoisePredictor withoutGradient() {
    NoisePredictor self = this;
    return (x, t, c) -> self.predictNoise(x, t, c).stopGradient();
  }

  /** The timestep tensor a UNet takes: [batch] float32, all equal to {@code t}. */
  static NDArray timestep(NDManager manager, int t, long batch) {
    float[] values = new float[Math.toIntExact(batch)];
    Arrays.fill(values, t);
    return Tensors.create(manager, values);
  }
}
