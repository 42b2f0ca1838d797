package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Module;
import java.util.List;

/**
 * transformers' {@code CLIPTextModel}: Stable Diffusion's text encoder. Its parameter names
 * ({@code text_model.encoder.layers.0.self_attn.q_proj.weight}, ...) equal the keys of {@code
 * text_encoder/model.safetensors}.
 */
public final class CLIPTextModel extends Module {
  private final CLIPTextConfig config;
  private final CLIPTextTransformer textModel;

  /**
   * @param lastHiddenState {@code [batch, length, hidden]} after the final layer norm: what Stable
   *     Diffusion conditions on
   * @param pooledOutput {@code [batch, hidden]} at each sequence's eos token
   * @param hiddenStates the embeddings and each encoder layer's output, before the final norm
   */
  public record Output(NDArray lastHiddenState, NDArray pooledOutput, List<NDArray> hiddenStates) {}

  public CLIPTextModel(CLIPTextConfig config) {
    this.config = config;
    this.textModel = child("text_model", new CLIPTextTransformer(config));
  }

  public CLIPTextConfig config() {
    return config;
  }

  public CLIPTextTransformer textModel() {
    return textModel;
  }

  /** @param inputIds {@code [batch, length]} token ids (int32 or int64) */
  public Output forward(NDArray inputIds) {
    return textModel.forward(inputIds);
  }
}
