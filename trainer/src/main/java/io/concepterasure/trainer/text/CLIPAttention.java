package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Attention;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;

/**
 * transformers' {@code CLIPAttention}: multi-head self-attention with biased q/k/v/out projections.
 */
public final class CLIPAttention extends Module {
  private final int heads;
  private final float scale;
  private final Linear kProj;
  private final Linear vProj;
  private final Linear qProj;
  private final Linear outProj;

  public CLIPAttention(CLIPTextConfig config) {
    long dim = config.hiddenSize();
    this.heads = config.numAttentionHeads();
    this.scale = (float) Math.pow(config.headDim(), -0.5);
    this.kProj = child("k_proj", new Linear(dim, dim));
    this.vProj = child("v_proj", new Linear(dim, dim));
    this.qProj = child("q_proj", new Linear(dim, dim));
    this.outProj = child("out_proj", new Linear(dim, dim));
  }

  /**
   * @param hiddenStates {@code [batch, length, hidden]}
   * @param additiveMask {@code null} or broadcastable to {@code [batch, heads, length, length]}
   */
  public NDArray forward(NDArray hiddenStates, NDArray additiveMask) {
    NDArray out =
        Attention.scaledDotProductAttention(
            qProj.forward(hiddenStates),
            kProj.forward(hiddenStates),
            vProj.forward(hiddenStates),
            heads,
            scale,
            additiveMask,
            false);
    return outProj.forward(out);
  }
}
