package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;
import java.util.function.UnaryOperator;

/** transformers' {@code CLIPMLP}: fc1, the config's activation, fc2. */
public final class CLIPMLP extends Module {
  private final UnaryOperator<NDArray> activation;
  private final Linear fc1;
  private final Linear fc2;

  public CLIPMLP(CLIPTextConfig config) {
    this.activation = Activations.get(config.hiddenAct(), "text encoder config hidden_act");
    this.fc1 = child("fc1", new Linear(config.hiddenSize(), config.intermediateSize()));
    this.fc2 = child("fc2", new Linear(config.intermediateSize(), config.hiddenSize()));
  }

  public NDArray forward(NDArray hiddenStates) {
    return fc2.forward(activation.apply(fc1.forward(hiddenStates)));
  }
}
