package io.concepterasure.trainer.diffusion.scheduler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Arrays;

/**
 * Denoising diffusion implicit models (Song et al. 2021), as diffusers' {@code DDIMScheduler}: the
 * inference timesteps and the update from x_t to x_{t-1} given the network's prediction.
 *
 * <p>Scalar coefficients are float32, as diffusers' 0-dim tensors are, and each update is written
 * in diffusers' order of operations so that results agree to float32 rounding.
 */
public final class DdimScheduler {
  private final DdimSchedulerConfig config;
  private final float[] alphasCumprod;
  // The "previous" alpha of the last step: 1 makes the last step return the predicted x0 itself.
  private final float finalAlphaCumprod;
  private int numInferenceSteps;
  private int[] timesteps;

  /** What one step produced: x_{t-1}, and the x0 it was derived from. */
  public record Output(NDArray prevSample, NDArray predOriginalSample) {}

  public DdimScheduler(DdimSchedulerConfig config) {
    this.config = config;
    this.alphasCumprod = NoiseSchedule.alphasCumprod(config);
    this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
    int n = config.numTrainTimesteps();
    // Before set_timesteps diffusers holds every training timestep, descending.
    this.timesteps = new int[n];
    for (int i = 0; i < n; i++) {
      timesteps[i] = n - 1 - i;
    }
  }

  public DdimSchedulerConfig config() {
    return config;
  }

  /** The standard deviation of the initial noise; 1 for DDIM (latents are drawn from N(0, I)). */
  public float initNoiseSigma() {
    return 1f;
  }

  public float[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  public int numInferenceSteps() {
    return numInferenceSteps;
  }

  public int[] timesteps() {
    return timesteps.clone();
  }

  /**
   * Chooses the timesteps of an {@code steps}-step sampling, descending, by the config's spacing.
   */
  public void setTimesteps(int steps) {
    this.timesteps = spacedTimesteps(config, steps);
    this.numInferenceSteps = steps;
    for (int i = 0, j = timesteps.length - 1; i < j; i++, j--) {
      int t = timesteps[i];
      timesteps[i] = timesteps[j];
      timesteps[j] = t;
    }
  }

  /**
   * Ascending timesteps, as diffusers computes them before reversing (the inverse scheduler keeps
   * this order).
   */
  static int[] spacedTimesteps(DdimSchedulerConfig config, int steps) {
    int n = config.numTrainTimesteps();
    if (steps < 1 || steps > n) {
      throw new IllegalArgumentException(
          "number of inference steps must be between 1 and num_train_timesteps="
              + n
              + ", got "
              + steps);
    }
    int[] ts = new int[steps];
    switch (config.timestepSpacing()) {
      case "linspace" -> {
        // np.linspace(0, n - 1, steps).round(): numpy rounds half to even.
        for (int i = 0; i < steps; i++) {
          double v = steps == 1 ? 0 : (double) (n - 1) * i / (steps - 1);
          ts[i] = (int) Math.rint(v);
        }
      }
      case "leading" -> {
        int ratio = n / steps;
        for (int i = 0; i < steps; i++) {
          ts[i] = i * ratio + config.stepsOffset();
        }
      }
      case "trailing" -> {
        // np.round(np.arange(n, 0, -n / steps)) - 1, reversed to ascending.
        double ratio = (double) n / steps;
        for (int i = 0; i < steps; i++) {
          ts[steps - 1 - i] = (int) Math.rint(n - i * ratio) - 1;
        }
      }
      default -> throw new IllegalStateException(config.timestepSpacing());
    }
    return ts;
  }

  /** One deterministic DDIM step (eta = 0), as the Stable Diffusion pipeline calls it. */
  public Output step(NDArray modelOutput, int timestep, NDArray sample) {
    return step(modelOutput, timestep, sample, 0f, false, null);
  }

  /**
   * One DDIM step from {@code timestep} to the previous inference timestep.
   *
   * @param eta the weight of fresh noise (0 = DDIM, 1 = DDPM-like); needs {@code varianceNoise}
   *     when > 0
   * @param useClippedModelOutput when x0 was clipped ({@code clip_sample}), re-derive the noise
   *     from the clipped x0 so that the step stays consistent with it (as diffusers' flag of that
   *     name)
   */
  public Output step(
      NDArray modelOutput,
      int timestep,
      NDArray sample,
      float eta,
      boolean useClippedModelOutput,
      NDArray varianceNoise) {
    if (numInferenceSteps == 0) {
      throw new IllegalStateException("set_timesteps must be called before step");
    }
    int prevTimestep = timestep - config.numTrainTimesteps() / numInferenceSteps;
    float alphaProdT = alphasCumprod[checkTimestep(timestep)];
    float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
    float betaProdT = 1f - alphaProdT;
    float sqrtAlpha = sqrt(alphaProdT);
    float sqrtBeta = sqrt(betaProdT);

    NDArray[] x0AndEps = predict(modelOutput, sample, sqrtAlpha, sqrtBeta);
    NDArray predOriginalSample = x0AndEps[0];
    NDArray predEpsilon = x0AndEps[1];
    if (config.clipSample()) {
      float range = config.clipSampleRange().floatValue();
      predOriginalSample = predOriginalSample.clip(-range, range);
    }
    float variance = (1f - alphaProdTPrev) / betaProdT * (1f - alphaProdT / alphaProdTPrev);
    float stdDevT = eta * sqrt(variance);
    if (useClippedModelOutput) {
      predEpsilon = Tensors.div(sample.sub(Tensors.mul(predOriginalSample, sqrtAlpha)), sqrtBeta);
    }
    NDArray direction = Tensors.mul(predEpsilon, sqrt(1f - alphaProdTPrev - stdDevT * stdDevT));
    NDArray prevSample = Tensors.mul(predOriginalSample, sqrt(alphaProdTPrev)).add(direction);
    if (eta > 0) {
      if (varianceNoise == null) {
        throw new IllegalArgumentException("a DDIM step with eta > 0 needs variance noise");
      }
      prevSample = prevSample.add(Tensors.mul(varianceNoise, stdDevT));
    }
    return new Output(prevSample, predOriginalSample);
  }

  /** x0 and epsilon from the network output, by the config's prediction type. */
  static NDArray[] predict(
      NDArray modelOutput, NDArray sample, float sqrtAlpha, float sqrtBeta, String type) {
    return switch (type) {
      case "epsilon" ->
          new NDArray[] {
            Tensors.div(sample.sub(Tensors.mul(modelOutput, sqrtBeta)), sqrtAlpha), modelOutput
          };
      case "sample" ->
          new NDArray[] {
            modelOutput, Tensors.div(sample.sub(Tensors.mul(modelOutput, sqrtAlpha)), sqrtBeta)
          };
      // Salimans & Ho 2022: v = sqrt(a) eps - sqrt(1 - a) x0.
      case "v_prediction" ->
          new NDArray[] {
            Tensors.mul(sample, sqrtAlpha).sub(Tensors.mul(modelOutput, sqrtBeta)),
            Tensors.mul(modelOutput, sqrtAlpha).add(Tensors.mul(sample, sqrtBeta))
          };
      default -> throw new IllegalStateException(type);
    };
  }

  private NDArray[] predict(NDArray modelOutput, NDArray sample, float sqrtAlpha, float sqrtBeta) {
    return predict(modelOutput, sample, sqrtAlpha, sqrtBeta, config.predictionType());
  }

  /**
   * The forward process q(x_t | x_0): sqrt(a_t) x0 + sqrt(1 - a_t) noise, one timestep per batch
   * item.
   */
  public NDArray addNoise(NDArray originalSamples, NDArray noise, int[] timesteps) {
    NDArray sqrtAlpha = perItem(originalSamples, timesteps, false);
    NDArray sqrtOneMinusAlpha = perItem(originalSamples, timesteps, true);
    return originalSamples.mul(sqrtAlpha).add(noise.mul(sqrtOneMinusAlpha));
  }

  /** The v-prediction training target: sqrt(a_t) noise - sqrt(1 - a_t) x0. */
  public NDArray getVelocity(NDArray sample, NDArray noise, int[] timesteps) {
    NDArray sqrtAlpha = perItem(sample, timesteps, false);
    NDArray sqrtOneMinusAlpha = perItem(sample, timesteps, true);
    return noise.mul(sqrtAlpha).sub(sample.mul(sqrtOneMinusAlpha));
  }

  private NDArray perItem(NDArray like, int[] timesteps, boolean oneMinus) {
    long batch = like.getShape().get(0);
    if (timesteps.length != batch) {
      throw new IllegalArgumentException(
          "expected one timestep per batch item (" + batch + "), got " + timesteps.length);
    }
    float[] values = new float[timesteps.length];
    for (int i = 0; i < values.length; i++) {
      float a = alphasCumprod[checkTimestep(timesteps[i])];
      values[i] = sqrt(oneMinus ? 1f - a : a);
    }
    long[] dims = new long[like.getShape().dimension()];
    Arrays.fill(dims, 1);
    dims[0] = batch;
    NDManager manager = like.getManager();
    return Tensors.create(manager, values, new Shape(dims)).toDevice(like.getDevice(), false);
  }

  int checkTimestep(int t) {
    if (t < 0 || t >= alphasCumprod.length) {
      throw new IllegalArgumentException(
          "timestep " + t + " is outside [0, " + alphasCumprod.length + ") of this scheduler");
    }
    return t;
  }

  static float sqrt(float x) {
    return (float) Math.sqrt(x);
  }
}
