package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Tensors;

/**
 * diffusers' {@code Timesteps}: the sinusoidal embedding of DDPM ({@code get_timestep_embedding}),
 * computed with the same fp32 operations in the same order, so that sin/cos of large arguments (t
 * up to 999) round as in diffusers.
 */
public final class Timesteps extends Module {
  private static final double MAX_PERIOD = 10000;

  private final int numChannels;
  private final boolean flipSinToCos;
  private final double downscaleFreqShift;

  public Timesteps(int numChannels, boolean flipSinToCos, double downscaleFreqShift) {
    this.numChannels = numChannels;
    this.flipSinToCos = flipSinToCos;
    this.downscaleFreqShift = downscaleFreqShift;
  }

  /**
   * @param timesteps {@code [batch]}, integer or fractional; returns {@code [batch, numChannels]}
   *     fp32
   */
  public NDArray forward(NDArray timesteps) {
    if (timesteps.getShape().dimension() != 1) {
      throw new IllegalArgumentException(
          "timesteps must be 1-D [batch] but got " + timesteps.getShape());
    }
    int half = numChannels / 2;
    NDArray exponent =
        Tensors.div(
            Tensors.mul(
                timesteps.getManager().arange(0, half, 1, DataType.FLOAT32),
                (float) -Math.log(MAX_PERIOD)),
            (float) (half - downscaleFreqShift));
    NDArray arguments =
        timesteps.toType(DataType.FLOAT32, false).expandDims(1).mul(exponent.exp().expandDims(0));
    NDArray sin = arguments.sin();
    NDArray cos = arguments.cos();
    NDArray emb =
        flipSinToCos
            ? NDArrays.concat(new NDList(cos, sin), 1)
            : NDArrays.concat(new NDList(sin, cos), 1);
    if (numChannels % 2 == 1) {
      emb = emb.pad(new Shape(0, 1), 0);
    }
    return emb;
  }
}
