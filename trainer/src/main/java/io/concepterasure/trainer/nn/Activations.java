package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import java.util.function.UnaryOperator;

/**
 * diffusers' {@code get_activation} and transformers' {@code ACT2FN}: an activation by its config
 * name.
 */
public final class Activations {
  private Activations() {}

  /**
   * @param name the config value, for example {@code "silu"}
   * @param field the config field it came from, named in the error for an unsupported value
   */
  public static UnaryOperator<NDArray> get(String name, String field) {
    return switch (name) {
      case "silu", "swish" -> Activations::silu;
      case "gelu" -> Activation::gelu;
      case "quick_gelu" -> x -> x.mul(Activation.sigmoid(Tensors.mul(x, 1.702f)));
      case "relu" -> Activation::relu;
      default ->
          throw new IllegalArgumentException(
              field
                  + ": unsupported activation '"
                  + name
                  + "' (supported: silu, swish, gelu, quick_gelu, relu)");
    };
  }

  /** One fused operator, which keeps only its input for the backward pass ({@link FusedOps}). */
  public static NDArray silu(NDArray x) {
    if (FusedOps.enabled()) {
      return FusedOps.silu(x);
    }
    return x.mul(Activation.sigmoid(x));
  }
}
