package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import java.util.Map;

/** φ: a noise predictor whose parameters are reachable by their diffusers names, to be trained. */
public interface TrainableNoisePredictor extends NoisePredictor {

  /** Every parameter of the network by checkpoint name (as {@link Module#namedParameters()}). */
  Map<String, Parameter> namedParameters();

  /** A module with its forward pass, e.g. {@code of(unet, unet::forward)}. */
  static TrainableNoisePredictor of(Module module, NoisePredictor forward) {
    return new TrainableNoisePredictor() {
      @Override
      public NDArray predictNoise(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
        return forward.predictNoise(sample, timestep, encoderHiddenStates);
      }

      @Override
      public Map<String, Parameter> namedParameters() {
        return module.namedParameters();
      }
    };
  }
}
