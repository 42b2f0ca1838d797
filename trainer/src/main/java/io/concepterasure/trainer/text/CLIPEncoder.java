package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import java.util.ArrayList;
import java.util.List;

/** transformers' {@code CLIPEncoder}: the stack of {@link CLIPEncoderLayer}s. */
public final class CLIPEncoder extends Module {
  private final ModuleList<CLIPEncoderLayer> layers;

  public CLIPEncoder(CLIPTextConfig config) {
    this.layers = child("layers", new ModuleList<>());
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(new CLIPEncoderLayer(config));
    }
  }

  /**
   * @return the input embeddings followed by each layer's output ({@code hidden_states} of
   *     transformers with {@code output_hidden_states=True})
   */
  public List<NDArray> forward(NDArray inputsEmbeds, NDArray additiveMask) {
    List<NDArray> states = new ArrayList<>(layers.size() + 1);
    NDArray h = inputsEmbeds;
    states.add(h);
    for (CLIPEncoderLayer layer : layers) {
      h = layer.forward(h, additiveMask);
      states.add(h);
    }
    return states;
  }
}
