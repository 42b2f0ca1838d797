package io.concepterasure.trainer.erasure;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.annotation.JsonValue;
import io.concepterasure.trainer.SpecNamed;

/**
 * {@code method.precision}: the dtype of the frozen UNet θ. φ, its gradients and Adam's moments,
 * the text encoder and the VAE stay fp32 in both; only θ, the largest thing that is never trained
 * (3.44 GB of SD 1.5's 7.7 GB of weights in an erase), changes.
 *
 * <p>Why float16: it is how diffusers runs SD UNets for inference ({@code torch_dtype=float16}, the
 * hub's fp16 variants), and θ only ever runs inference; its 11 significant bits move θ's
 * predictions by a fraction of a percent (measured on SD 1.5 in docs/benchmarks.md), and SD 2.x's
 * attention is upcast to fp32 where its config asks. bfloat16 (fp32's range) was the first choice,
 * but DJL 0.36 aborts the JVM converting a tensor to it.
 */
public enum Precision implements SpecNamed {
  /** Every weight in fp32: the default on CPU. */
  FP32("fp32", DataType.FLOAT32),
  /** θ's UNet in float16, everything trained in fp32: the default on GPU. */
  MIXED("mixed", DataType.FLOAT16);

  private final String specName;
  private final DataType frozenUNet;

  Precision(String specName, DataType frozenUNet) {
    this.specName = specName;
    this.frozenUNet = frozenUNet;
  }

  @JsonValue
  @Override
  public String specName() {
    return specName;
  }

  /** The dtype θ's UNet is loaded in (it computes in it; callers pass and get fp32). */
  public DataType frozenUNet() {
    return frozenUNet;
  }

  /** The default where the request names none: mixed on a GPU, fp32 on a CPU. */
  public static Precision defaultFor(Device device) {
    return device.isGpu() ? MIXED : FP32;
  }

  public static Precision fromSpecName(String name) {
    return SpecNamed.parse(Precision.class, "precision", name);
  }
}
