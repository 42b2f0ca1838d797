package io.concepterasure.trainer.erasure;

import java.util.Map;

/** The loss turned NaN or infinite: training stops and names the iteration. */
public final class NonFiniteLossException extends RuntimeException {
  private final int iteration;

  public NonFiniteLossException(int iteration, Map<String, Double> losses) {
    super(
        "loss is not finite at iteration "
            + iteration
            + " "
            + losses
            + "; lower the learning rate or check the model's weights");
    this.iteration = iteration;
  }

  public int iteration() {
    return iteration;
  }
}
