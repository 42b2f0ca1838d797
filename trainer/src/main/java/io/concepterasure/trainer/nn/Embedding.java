package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * {@code torch.nn.Embedding}: {@code weight} is {@code [numEmbeddings, dim]}, rows looked up by id.
 */
public final class Embedding extends Module {
  private final long numEmbeddings;
  private final Parameter weight;

  public Embedding(long numEmbeddings, long dim) {
    this.numEmbeddings = numEmbeddings;
    // torch initialises embeddings from N(0, 1).
    this.weight =
        parameter(
            "weight",
            new Parameter(
                new Shape(numEmbeddings, dim),
                (manager, shape, random) -> {
                  float[] values = new float[Math.toIntExact(shape.size())];
                  for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                  }
                  return Tensors.create(manager, values, shape);
                }));
  }

  public long numEmbeddings() {
    return numEmbeddings;
  }

  public Parameter weight() {
    return weight;
  }

  /**
   * @param ids integer ids of any shape; the result adds a trailing {@code dim} axis
   */
  public NDArray forward(NDArray ids) {
    NDArray index = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
    return ai.djl.nn.core.Embedding.embedding(index, weight.array(), SparseFormat.DENSE)
        .singletonOrThrow();
  }
}
