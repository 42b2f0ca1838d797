package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.annotation.JsonValue;
import io.concepterasure.trainer.SpecNamed;
import io.concepterasure.trainer.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/** The UNet parameters an erasure trains, by diffusers name (docs/method.md, "What is trained"). */
public enum TrainableParameterSet implements SpecNamed {
  CROSS_ATTENTION("crossAttention", name -> name.contains("attn2")),
  CROSS_ATTENTION_KV(
      "crossAttentionKV", name -> name.contains("attn2.to_k.") || name.contains("attn2.to_v.")),
  /**
   * ESD-u: what ESD's {@code noxattn} trains. The linear and convolution layers outside
   * cross-attention, without the global time embedding, {@code conv_in}, {@code conv_out} and the
   * normalisation layers (ESD's diffusers code selects Linear and Conv2d modules only; its CompVis
   * code leaves out {@code time_embed} and {@code out.}).
   */
  NON_CROSS_ATTENTION("nonCrossAttention", TrainableParameterSet::isEsdUnconditional),
  ALL("all", name -> true);

  private final String specName;
  private final Predicate<String> includes;

  TrainableParameterSet(String specName, Predicate<String> includes) {
    this.specName = specName;
    this.includes = includes;
  }

  /** The name used in requests and the ConceptErasure spec. */
  @JsonValue
  @Override
  public String specName() {
    return specName;
  }

  public boolean includes(String parameterName) {
    return includes.test(parameterName);
  }

  /** The parameters of this set, in the network's order; fails if it selects none. */
  public Map<String, Parameter> select(Map<String, Parameter> namedParameters) {
    Map<String, Parameter> out = new LinkedHashMap<>();
    namedParameters.forEach(
        (name, p) -> {
          if (includes(name)) {
            out.put(name, p);
          }
        });
    if (out.isEmpty()) {
      throw new IllegalArgumentException(
          "parameter set "
              + specName
              + " selects no parameter of the UNet ("
              + namedParameters.size()
              + " parameters)");
    }
    return out;
  }

  private static boolean isEsdUnconditional(String name) {
    if (name.contains("attn2")
        || name.startsWith("time_embedding.")
        || name.startsWith("conv_in.")
        || name.startsWith("conv_out.")) {
      return false;
    }
    // The layer is the segment before ".weight"/".bias": norm, norm1..3, conv_norm_out.
    String[] parts = name.split("\\.");
    String layer = parts.length >= 2 ? parts[parts.length - 2] : name;
    return !layer.startsWith("norm") && !layer.equals("conv_norm_out");
  }

  public static TrainableParameterSet fromSpecName(String name) {
    return SpecNamed.parse(TrainableParameterSet.class, "parameter set", name);
  }
}
