package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One iteration's loss: the scalar L to differentiate and its named terms as method.md calls them
 * (guide, uncond, keep, esd, ablation), for progress lines and erasure.json.
 */
public record ErasureLoss(NDArray total, Map<String, NDArray> terms) {

  /** The total (key "loss") and each term, as numbers. */
  public Map<String, Double> values() {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("loss", (double) total.getFloat());
    terms.forEach((name, value) -> out.put(name, (double) value.getFloat()));
    return out;
  }
}
