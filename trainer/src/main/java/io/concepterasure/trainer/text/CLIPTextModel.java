package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * transformers' {@code CLIPTextModel}: Stable Diffusion's text encoder. Its parameter names ({@code
 * text_model.encoder.layers.0.self_attn.q_proj.weight}, ...) equal the keys of {@code
 * text_encoder/model.safetensors}.
 */
public final class CLIPTextModel extends Module {
  private static final String PREFIX = "text_model.";

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

  /**
   * Builds the model from its {@code config.json} and loads its safetensors weights (a file or a
   * sharded index) into {@code manager} as {@code dtype}. Keys are read with or without the {@code
   * text_model.} prefix: published checkpoints have it, transformers 5 saves without it (and strips
   * it on load).
   */
  public static CLIPTextModel load(Path config, Path weights, NDManager manager, DataType dtype)
      throws IOException {
    CLIPTextModel model = new CLIPTextModel(CLIPTextConfig.read(config));
    try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
      boolean prefixed = reader.names().stream().anyMatch(n -> n.startsWith(PREFIX));
      UnaryOperator<String> fileKey =
          prefixed
              ? UnaryOperator.identity()
              : name -> name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
      // position_ids is a buffer older transformers saved with the weights; it is always 0..n-1.
      StateDictLoader.load(
          model, reader, manager, dtype, name -> name.endsWith("embeddings.position_ids"), fileKey);
    }
    return model;
  }

  public CLIPTextConfig config() {
    return config;
  }

  public CLIPTextTransformer textModel() {
    return textModel;
  }

  /**
   * @param inputIds {@code [batch, length]} token ids (int32 or int64)
   */
  public Output forward(NDArray inputIds) {
    return textModel.forward(inputIds);
  }
}
