package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.LayerNorm;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Tensors;
import java.util.List;

/**
 * transformers' {@code CLIPTextTransformer}: embeddings, causal encoder, final layer norm, eos
 * pooling.
 */
public final class CLIPTextTransformer extends Module {
  private final CLIPTextConfig config;
  private final CLIPTextEmbeddings embeddings;
  private final CLIPEncoder encoder;
  private final LayerNorm finalLayerNorm;

  public CLIPTextTransformer(CLIPTextConfig config) {
    this.config = config;
    this.embeddings = child("embeddings", new CLIPTextEmbeddings(config));
    this.encoder = child("encoder", new CLIPEncoder(config));
    this.finalLayerNorm =
        child(
            "final_layer_norm",
            new LayerNorm(config.hiddenSize(), config.layerNormEps().floatValue()));
  }

  public CLIPTextEmbeddings embeddings() {
    return embeddings;
  }

  public CLIPTextModel.Output forward(NDArray inputIds) {
    if (inputIds.getShape().dimension() != 2) {
      throw new IllegalArgumentException(
          "text encoder: input_ids must be [batch, length], got " + inputIds.getShape());
    }
    NDArray h = embeddings.forward(inputIds);
    List<NDArray> hiddenStates =
        encoder.forward(
            h, causalMask(inputIds.getManager(), inputIds.getShape().get(1), h.getDataType()));
    NDArray last = finalLayerNorm.forward(hiddenStates.get(hiddenStates.size() - 1));
    return new CLIPTextModel.Output(last, pool(last, inputIds), hiddenStates);
  }

  /**
   * Each position sees itself and the ones before it: the smallest finite value above the diagonal,
   * as transformers uses, so that a fully masked row cannot turn into NaN.
   */
  static NDArray causalMask(NDManager manager, long length, DataType type) {
    float[] mask = new float[Math.toIntExact(length * length)];
    for (int i = 0; i < length; i++) {
      for (int j = i + 1; j < length; j++) {
        mask[(int) (i * length + j)] = -Float.MAX_VALUE;
      }
    }
    return Tensors.create(manager, mask, new Shape(1, 1, length, length)).toType(type, false);
  }

  /**
   * The hidden state at the end-of-text token of each sequence. Configs from before transformers
   * fixed eos_token_id say 2; for them the highest id is the eos, as in CLIP's original code.
   */
  private NDArray pool(NDArray lastHiddenState, NDArray inputIds) {
    NDArray ids = inputIds.toType(DataType.INT64, false);
    NDArray positions =
        config.eosTokenId() == 2
            ? ids.argMax(1)
            : Tensors.eq(ids, config.eosTokenId()).toType(DataType.INT32, false).argMax(1);
    long batch = ids.getShape().get(0);
    NDArray rows = inputIds.getManager().arange(0, (int) batch, 1, DataType.INT64);
    return lastHiddenState.get(
        new NDIndex("{}, {}", rows, positions.toType(DataType.INT64, false)));
  }
}
