package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;
import java.util.function.UnaryOperator;

/** diffusers' {@code TimestepEmbedding}: {@code linear_1}, activation, {@code linear_2}. */
public final class TimestepEmbedding extends Module {
  private final Linear linear1;
  private final UnaryOperator<NDArray> act;
  private final Linear linear2;

  public TimestepEmbedding(int inChannels, int timeEmbedDim, String actFn) {
    this.linear1 = child("linear_1", new Linear(inChannels, timeEmbedDim));
    this.act = Activations.get(actFn, "act_fn");
    this.linear2 = child("linear_2", new Linear(timeEmbedDim, timeEmbedDim));
  }

  public NDArray forward(NDArray sample) {
    return linear2.forward(act.apply(linear1.forward(sample)));
  }
}
