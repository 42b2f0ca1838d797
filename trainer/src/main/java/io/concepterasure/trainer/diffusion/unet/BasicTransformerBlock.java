package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Attention;
import io.concepterasure.trainer.nn.FeedForward;
import io.concepterasure.trainer.nn.LayerNorm;
import io.concepterasure.trainer.nn.Module;

/**
 * diffusers' {@code BasicTransformerBlock} with {@code norm_type="layer_norm"}: pre-norm residual
 * self-attention ({@code attn1}), cross-attention to the text ({@code attn2}) and GEGLU
 * feed-forward ({@code ff}).
 */
public final class BasicTransformerBlock extends Module {
  /**
   * diffusers' {@code norm_eps} default for these layer norms (the group norm around them uses
   * 1e-6).
   */
  public static final float NORM_EPS = 1e-5f;

  private final boolean onlyCrossAttention;
  private final LayerNorm norm1;
  private final Attention attn1;
  private final LayerNorm norm2;
  private final Attention attn2;
  private final LayerNorm norm3;
  private final FeedForward ff;

  public BasicTransformerBlock(
      int dim,
      int numAttentionHeads,
      int attentionHeadDim,
      int crossAttentionDim,
      boolean onlyCrossAttention,
      boolean upcastAttention) {
    this.onlyCrossAttention = onlyCrossAttention;
    this.norm1 = child("norm1", new LayerNorm(dim, NORM_EPS));
    this.attn1 =
        child(
            "attn1",
            Attention.builder(dim)
                .heads(numAttentionHeads)
                .dimHead(attentionHeadDim)
                .crossAttentionDim(onlyCrossAttention ? (long) crossAttentionDim : null)
                .upcastAttention(upcastAttention)
                .build());
    this.norm2 = child("norm2", new LayerNorm(dim, NORM_EPS));
    this.attn2 =
        child(
            "attn2",
            Attention.builder(dim)
                .heads(numAttentionHeads)
                .dimHead(attentionHeadDim)
                .crossAttentionDim((long) crossAttentionDim)
                .upcastAttention(upcastAttention)
                .build());
    this.norm3 = child("norm3", new LayerNorm(dim, NORM_EPS));
    this.ff = child("ff", new FeedForward(dim, 4, "geglu", true));
  }

  /**
   * @param hiddenStates {@code [batch, tokens, dim]}
   * @param encoderHiddenStates {@code [batch, textTokens, crossAttentionDim]}
   */
  public NDArray forward(NDArray hiddenStates, NDArray encoderHiddenStates) {
    return freeingIntermediates(
        () -> checkpointed(in -> compute(in.get(0), in.get(1)), hiddenStates, encoderHiddenStates));
  }

  private NDArray compute(NDArray hiddenStates, NDArray encoderHiddenStates) {
    NDArray h = hiddenStates;
    h = attn1.forward(norm1.forward(h), onlyCrossAttention ? encoderHiddenStates : null).add(h);
    h = attn2.forward(norm2.forward(h), encoderHiddenStates).add(h);
    return ff.forward(norm3.forward(h)).add(h);
  }
}
