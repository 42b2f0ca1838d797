package io.concepterasure.trainer.diffusion.scheduler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.nn.Tensors;
import java.util.List;

/**
 * The cumulative products of alphas that every diffusers scheduler derives from its betas, computed
 * with the same float32 torch operations diffusers uses ({@code torch.linspace}, {@code
 * torch.cumprod}) so that the values agree bit for bit rather than to a double's precision.
 */
final class NoiseSchedule {
  private NoiseSchedule() {}

  static float[] alphasCumprod(DdimSchedulerConfig config) {
    int n = config.numTrainTimesteps();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray betas = betas(manager, config);
      if (config.rescaleBetasZeroSnr()) {
        betas = rescaleZeroTerminalSnr(betas);
      }
      NDArray alphas = Tensors.add(betas.neg(), 1f);
      float[] cumprod = alphas.cumProd(0).toFloatArray();
      if (cumprod.length != n) {
        throw new IllegalArgumentException(
            "scheduler config: trained_betas has "
                + cumprod.length
                + " values but num_train_timesteps is "
                + n);
      }
      if (config.rescaleBetasZeroSnr()) {
        // diffusers: a zero terminal alpha would divide by zero in the step, so it is nudged to
        // 2**-24.
        cumprod[n - 1] = (float) Math.pow(2, -24);
      }
      return cumprod;
    }
  }

  private static NDArray betas(NDManager manager, DdimSchedulerConfig config) {
    int n = config.numTrainTimesteps();
    List<Double> trained = config.trainedBetas();
    if (trained != null) {
      float[] values = new float[trained.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = trained.get(i).floatValue();
      }
      return Tensors.create(manager, values);
    }
    return switch (config.betaSchedule()) {
      case "linear" ->
          manager.linspace(config.betaStart().floatValue(), config.betaEnd().floatValue(), n, true);
      // Linear in sqrt(beta): the schedule Stable Diffusion was trained with.
      case "scaled_linear" ->
          Tensors.pow(
              manager.linspace(
                  (float) Math.sqrt(config.betaStart()),
                  (float) Math.sqrt(config.betaEnd()),
                  n,
                  true),
              2f);
      case "squaredcos_cap_v2" -> Tensors.create(manager, cosineBetas(n));
      default ->
          throw new IllegalArgumentException(
              "scheduler config: beta_schedule must be linear, scaled_linear or squaredcos_cap_v2, got "
                  + config.betaSchedule());
    };
  }

  /** Nichol & Dhariwal's cosine schedule, as diffusers' {@code betas_for_alpha_bar}. */
  private static float[] cosineBetas(int n) {
    float[] betas = new float[n];
    for (int i = 0; i < n; i++) {
      double t1 = (double) i / n;
      double t2 = (double) (i + 1) / n;
      betas[i] = (float) Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
    }
    return betas;
  }

  private static double alphaBar(double t) {
    double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  /**
   * Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1.
   */
  private static NDArray rescaleZeroTerminalSnr(NDArray betas) {
    NDArray alphasBarSqrt = Tensors.add(betas.neg(), 1f).cumProd(0).sqrt();
    long n = alphasBarSqrt.size();
    float first = alphasBarSqrt.getFloat(0);
    float last = alphasBarSqrt.getFloat(n - 1);
    alphasBarSqrt = Tensors.mul(Tensors.sub(alphasBarSqrt, last), first / (first - last));
    NDArray alphasBar = Tensors.pow(alphasBarSqrt, 2f);
    NDArray alphas = alphasBar.get("1:").div(alphasBar.get(":-1"));
    alphas = alphasBar.get("0:1").concat(alphas);
    return Tensors.add(alphas.neg(), 1f).toType(DataType.FLOAT32, false);
  }
}
