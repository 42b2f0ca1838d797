package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.LayerNorm;
import io.concepterasure.trainer.nn.Module;

/**
 * transformers' {@code CLIPEncoderLayer}: pre-norm self-attention and MLP, each with a residual.
 */
public final class CLIPEncoderLayer extends Module {
  private final CLIPAttention selfAttn;
  private final LayerNorm layerNorm1;
  private final CLIPMLP mlp;
  private final LayerNorm layerNorm2;

  public CLIPEncoderLayer(CLIPTextConfig config) {
    float eps = config.layerNormEps().floatValue();
    this.selfAttn = child("self_attn", new CLIPAttention(config));
    this.layerNorm1 = child("layer_norm1", new LayerNorm(config.hiddenSize(), eps));
    this.mlp = child("mlp", new CLIPMLP(config));
    this.layerNorm2 = child("layer_norm2", new LayerNorm(config.hiddenSize(), eps));
  }

  public NDArray forward(NDArray hiddenStates, NDArray additiveMask) {
    NDArray h = hiddenStates.add(selfAttn.forward(layerNorm1.forward(hiddenStates), additiveMask));
    return h.add(mlp.forward(layerNorm2.forward(h)));
  }
}
