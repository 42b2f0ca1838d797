package io.concepterasure.trainer.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.nn.Embedding;
import io.concepterasure.trainer.nn.Module;

/**
 * transformers' {@code CLIPTextEmbeddings}: token embedding plus learned absolute position
 * embedding.
 */
public final class CLIPTextEmbeddings extends Module {
  private final Embedding tokenEmbedding;
  private final Embedding positionEmbedding;

  public CLIPTextEmbeddings(CLIPTextConfig config) {
    this.tokenEmbedding =
        child("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize()));
    this.positionEmbedding =
        child(
            "position_embedding",
            new Embedding(config.maxPositionEmbeddings(), config.hiddenSize()));
  }

  public Embedding tokenEmbedding() {
    return tokenEmbedding;
  }

  /**
   * @param inputIds {@code [batch, length]}
   */
  public NDArray forward(NDArray inputIds) {
    long length = inputIds.getShape().get(1);
    if (length > positionEmbedding.numEmbeddings()) {
      throw new IllegalArgumentException(
          "text encoder: sequence length "
              + length
              + " exceeds max_position_embeddings "
              + positionEmbedding.numEmbeddings());
    }
    NDArray positions =
        inputIds.getManager().arange(0, (int) length, 1, DataType.INT64).expandDims(0);
    return tokenEmbedding.forward(inputIds).add(positionEmbedding.forward(positions));
  }
}
