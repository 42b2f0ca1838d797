package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers' {@code Attention} ({@code attention_processor.py}) with the arithmetic of its default
 * processor: {@code to_q}, {@code to_k}, {@code to_v}, {@code to_out.0}; self-attention, or
 * cross-attention when built with a {@code crossAttentionDim}; optionally the VAE's form with a
 * {@code group_norm} on 4-D input, a residual connection and an output rescale.
 *
 * <p>Attention runs as libtorch's fused {@code scaled_dot_product_attention} ({@link FusedOps}),
 * which never materialises the scores. With the fused operators off ({@code --no-fused}, for
 * debugging), heads are batched into one matrix product ({@code [batch * heads, length, dimHead]})
 * and the softmax is computed in fp32, whatever the input type.
 */
public final class Attention extends Module {
  /** Score elements computed at once on CPU: 8 MiB of fp32, about what a core's caches hold. */
  static final long CPU_SCORE_BLOCK = 2L << 20;

  private final int heads;
  private final long dimHead;
  private final float scale;
  private final boolean upcastAttention;
  private final boolean residualConnection;
  private final float rescaleOutputFactor;
  private final GroupNorm groupNorm;
  private final Linear toQ;
  private final Linear toK;
  private final Linear toV;
  private final Linear toOut;

  private Attention(Builder b) {
    this.heads = b.heads;
    this.dimHead = b.dimHead;
    this.scale = (float) (1.0 / Math.sqrt(b.dimHead));
    this.upcastAttention = b.upcastAttention;
    this.residualConnection = b.residualConnection;
    this.rescaleOutputFactor = b.rescaleOutputFactor;
    long innerDim = b.dimHead * b.heads;
    long keyDim = b.crossAttentionDim != null ? b.crossAttentionDim : b.queryDim;
    // Registration order follows diffusers' __init__, so namedParameters() lists keys as torch
    // does.
    this.groupNorm =
        b.normNumGroups != null
            ? child("group_norm", new GroupNorm(b.normNumGroups, b.queryDim, b.eps))
            : null;
    this.toQ = child("to_q", new Linear(b.queryDim, innerDim, b.bias));
    this.toK = child("to_k", new Linear(keyDim, innerDim, b.bias));
    this.toV = child("to_v", new Linear(keyDim, innerDim, b.bias));
    ModuleList<Module> out = child("to_out", new ModuleList<>());
    this.toOut = out.add(new Linear(innerDim, b.outDim != null ? b.outDim : b.queryDim, b.outBias));
    out.add(new Dropout(0.0));
  }

  /**
   * @param queryDim the channels of the attending hidden states
   */
  public static Builder builder(long queryDim) {
    return new Builder(queryDim);
  }

  public int heads() {
    return heads;
  }

  public long dimHead() {
    return dimHead;
  }

  /** Self-attention. */
  public NDArray forward(NDArray hiddenStates) {
    return forward(hiddenStates, null);
  }

  /**
   * @param hiddenStates {@code [batch, length, queryDim]}, or {@code [batch, queryDim, h, w]}
   * @param encoderHiddenStates {@code [batch, keyLength, crossAttentionDim]}, or {@code null} for
   *     self-attention
   */
  public NDArray forward(NDArray hiddenStates, NDArray encoderHiddenStates) {
    return freeingIntermediates(() -> attend(hiddenStates, encoderHiddenStates));
  }

  private NDArray attend(NDArray hiddenStates, NDArray encoderHiddenStates) {
    NDArray residual = hiddenStates;
    Shape inputShape = hiddenStates.getShape();
    boolean spatial = inputShape.dimension() == 4;
    NDArray x = hiddenStates;
    if (spatial) {
      x = x.reshape(inputShape.get(0), inputShape.get(1), inputShape.get(2) * inputShape.get(3));
      if (groupNorm != null) {
        x = groupNorm.forward(x);
      }
      x = x.transpose(0, 2, 1);
    } else if (groupNorm != null) {
      x = groupNorm.forward(x.transpose(0, 2, 1)).transpose(0, 2, 1);
    }
    NDArray context = encoderHiddenStates != null ? encoderHiddenStates : x;
    NDArray out =
        scaledDotProductAttention(
            toQ.forward(x),
            toK.forward(context),
            toV.forward(context),
            heads,
            scale,
            null,
            upcastAttention);
    out = toOut.forward(out);
    if (spatial) {
      out = out.transpose(0, 2, 1).reshape(inputShape);
    }
    if (residualConnection) {
      out = out.add(residual);
    }
    if (rescaleOutputFactor != 1.0f) {
      out = Tensors.div(out, rescaleOutputFactor);
    }
    return out;
  }

  /**
   * {@code softmax(q k^T * scale + mask) v} per head.
   *
   * @param q {@code [batch, queryLength, heads * dimHead]}
   * @param k {@code [batch, keyLength, heads * dimHead]}
   * @param v {@code [batch, keyLength, heads * dimHead]}
   * @param additiveMask {@code null}, or added to the scores, broadcastable to {@code [batch,
   *     heads, queryLength, keyLength]} (for example a causal mask of -inf)
   * @param upcast compute the scores from fp32 q and k (diffusers' {@code upcast_attention})
   * @return {@code [batch, queryLength, heads * dimHead]} in the type of {@code v}
   */
  public static NDArray scaledDotProductAttention(
      NDArray q,
      NDArray k,
      NDArray v,
      int heads,
      float scale,
      NDArray additiveMask,
      boolean upcast) {
    long batch = q.getShape().get(0);
    long queryLength = q.getShape().get(1);
    long keyLength = k.getShape().get(1);
    long inner = q.getShape().get(2);
    long dimHead = inner / heads;
    DataType type = v.getDataType();
    if (FusedOps.enabled()) {
      return fused(q, k, v, heads, scale, additiveMask, upcast);
    }
    // Scaling q (length x dimHead) is cheaper than scaling the scores (length x length).
    NDArray qh = toHeads(Tensors.mul(q, scale), batch, queryLength, heads, dimHead);
    NDArray kh = toHeads(k, batch, keyLength, heads, dimHead);
    NDArray vh = toHeads(v, batch, keyLength, heads, dimHead);
    if (upcast && type != DataType.FLOAT32) {
      qh = qh.toType(DataType.FLOAT32, false);
      kh = kh.toType(DataType.FLOAT32, false);
    }
    NDArray out;
    long rows = batch * heads;
    if (additiveMask != null) {
      NDArray scores = qh.matMul(kh.transpose(0, 2, 1));
      scores =
          toFloat32(scores)
              .reshape(batch, heads, queryLength, keyLength)
              .add(additiveMask)
              .reshape(rows, queryLength, keyLength);
      out = softmaxTimesValues(scores, vh, type);
    } else if (q.getDevice().isGpu() || rows * queryLength * keyLength <= CPU_SCORE_BLOCK) {
      out = softmaxTimesValues(qh.matMul(kh.transpose(0, 2, 1)), vh, type);
    } else {
      out = blockwise(qh, kh, vh, type);
    }
    return out.reshape(batch, heads, queryLength, dimHead)
        .transpose(0, 2, 1, 3)
        .reshape(batch, queryLength, inner);
  }

  private static NDArray fused(
      NDArray q, NDArray k, NDArray v, int heads, float scale, NDArray mask, boolean upcast) {
    long batch = q.getShape().get(0);
    long queryLength = q.getShape().get(1);
    long keyLength = k.getShape().get(1);
    long inner = q.getShape().get(2);
    long dimHead = inner / heads;
    DataType type = v.getDataType();
    // 4-D [batch, heads, length, dimHead]: for 3-D input libtorch silently takes its unfused path.
    NDArray qh = q.reshape(batch, queryLength, heads, dimHead).transpose(0, 2, 1, 3);
    NDArray kh = k.reshape(batch, keyLength, heads, dimHead).transpose(0, 2, 1, 3);
    NDArray vh = v.reshape(batch, keyLength, heads, dimHead).transpose(0, 2, 1, 3);
    boolean widen = upcast && type != DataType.FLOAT32;
    if (widen) {
      qh = qh.toType(DataType.FLOAT32, false);
      kh = kh.toType(DataType.FLOAT32, false);
      vh = vh.toType(DataType.FLOAT32, false);
    }
    NDArray out = FusedOps.scaledDotProductAttention(qh, kh, vh, mask, scale);
    if (widen) {
      out = out.toType(type, false);
    }
    return out.transpose(0, 2, 1, 3).reshape(batch, queryLength, inner);
  }

  /**
   * On CPU, self-attention over a large feature map is bound by memory traffic: the scores of all
   * heads ({@code batch * heads * length^2} floats, 64 MiB at 32x32 latents) leave the cache
   * between the matrix product, the softmax and the second product. Computing them a few heads
   * (and, for long sequences, a band of queries) at a time keeps each block in cache; this is about
   * 2x faster at SD's shapes, close to PyTorch's fused CPU attention that DJL does not expose.
   * Gradients flow through the slices and concatenations unchanged.
   */
  private static NDArray blockwise(NDArray qh, NDArray kh, NDArray vh, DataType type) {
    long rows = qh.getShape().get(0);
    long queryLength = qh.getShape().get(1);
    long keyLength = kh.getShape().get(1);
    long rowsPerBlock = Math.max(1, CPU_SCORE_BLOCK / (queryLength * keyLength));
    long queriesPerBlock = Math.min(queryLength, Math.max(1, CPU_SCORE_BLOCK / keyLength));
    NDList rowBlocks = new NDList();
    for (long r = 0; r < rows; r += rowsPerBlock) {
      long rEnd = Math.min(rows, r + rowsPerBlock);
      NDArray keysT = kh.get(new NDIndex("{}:{}", r, rEnd)).transpose(0, 2, 1);
      NDArray values = vh.get(new NDIndex("{}:{}", r, rEnd));
      NDList queryBlocks = new NDList();
      for (long i = 0; i < queryLength; i += queriesPerBlock) {
        NDArray queries =
            queriesPerBlock == queryLength
                ? qh.get(new NDIndex("{}:{}", r, rEnd))
                : qh.get(
                    new NDIndex(
                        "{}:{}, {}:{}", r, rEnd, i, Math.min(queryLength, i + queriesPerBlock)));
        queryBlocks.add(softmaxTimesValues(queries.matMul(keysT), values, type));
      }
      rowBlocks.add(queryBlocks.size() == 1 ? queryBlocks.head() : NDArrays.concat(queryBlocks, 1));
    }
    return rowBlocks.size() == 1 ? rowBlocks.head() : NDArrays.concat(rowBlocks, 0);
  }

  private static NDArray softmaxTimesValues(NDArray scores, NDArray values, DataType type) {
    NDArray probs = toFloat32(scores).softmax(-1);
    if (probs.getDataType() != type) {
      probs = probs.toType(type, false);
    }
    return probs.matMul(values);
  }

  private static NDArray toFloat32(NDArray x) {
    return x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
  }

  private static NDArray toHeads(NDArray x, long batch, long length, int heads, long dimHead) {
    return x.reshape(batch, length, heads, dimHead)
        .transpose(0, 2, 1, 3)
        .reshape(batch * heads, length, dimHead);
  }

  /** The arguments of diffusers' {@code Attention.__init__} that Stable Diffusion's models use. */
  public static final class Builder {
    private final long queryDim;
    private Long crossAttentionDim;
    private int heads = 8;
    private long dimHead = 64;
    private boolean bias;
    private boolean outBias = true;
    private Long outDim;
    private boolean upcastAttention;
    private Integer normNumGroups;
    private float eps = 1e-5f;
    private boolean residualConnection;
    private float rescaleOutputFactor = 1.0f;

    private Builder(long queryDim) {
      this.queryDim = queryDim;
    }

    /** Keys and values come from states of this width; {@code null} means self-attention. */
    public Builder crossAttentionDim(Long crossAttentionDim) {
      this.crossAttentionDim = crossAttentionDim;
      return this;
    }

    public Builder heads(int heads) {
      this.heads = heads;
      return this;
    }

    public Builder dimHead(long dimHead) {
      this.dimHead = dimHead;
      return this;
    }

    /**
     * Bias of {@code to_q}, {@code to_k}, {@code to_v} (diffusers' {@code bias}, default false).
     */
    public Builder bias(boolean bias) {
      this.bias = bias;
      return this;
    }

    public Builder outBias(boolean outBias) {
      this.outBias = outBias;
      return this;
    }

    public Builder outDim(Long outDim) {
      this.outDim = outDim;
      return this;
    }

    public Builder upcastAttention(boolean upcastAttention) {
      this.upcastAttention = upcastAttention;
      return this;
    }

    /** Adds {@code group_norm} before the projections (the VAE's attention). */
    public Builder normNumGroups(Integer normNumGroups) {
      this.normNumGroups = normNumGroups;
      return this;
    }

    public Builder eps(float eps) {
      this.eps = eps;
      return this;
    }

    public Builder residualConnection(boolean residualConnection) {
      this.residualConnection = residualConnection;
      return this;
    }

    public Builder rescaleOutputFactor(float rescaleOutputFactor) {
      this.rescaleOutputFactor = rescaleOutputFactor;
      return this;
    }

    public Attention build() {
      if (heads <= 0 || dimHead <= 0) {
        throw new IllegalArgumentException(
            "Attention: heads and dim_head must be positive, got " + heads + ", " + dimHead);
      }
      return new Attention(this);
    }
  }
}
