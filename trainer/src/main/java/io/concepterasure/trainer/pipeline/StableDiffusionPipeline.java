package io.concepterasure.trainer.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import io.concepterasure.trainer.diffusion.InvalidModelFolderException;
import io.concepterasure.trainer.diffusion.scheduler.DdimInverseScheduler;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.scheduler.DdimSchedulerConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.diffusion.vae.AutoencoderKL;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.text.CLIPTextModel;
import io.concepterasure.trainer.text.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * diffusers' {@code StableDiffusionPipeline} with the DDIM scheduler: text to image with
 * classifier-free guidance, loaded from a diffusers folder ({@code model_index.json} and one
 * subfolder per component).
 *
 * <p>The initial noise comes from {@link java.util.Random} (see {@link #initialLatents}), so the
 * same seed gives the same image on every run and machine here, but not the image torch's generator
 * gives for that seed.
 */
public final class StableDiffusionPipeline implements AutoCloseable {
  private final ClipTokenizer tokenizer;
  private final CLIPTextModel textEncoder;
  private final UNet2DConditionModel unet;
  private final AutoencoderKL vae;
  private final DdimScheduler scheduler;
  private final int sampleSize;

  /**
   * Called after each denoising step with its index, timestep and the new latents (valid only
   * during the call).
   */
  @FunctionalInterface
  public interface StepListener {
    void onStep(int index, int timestep, NDArray latents);
  }

  public StableDiffusionPipeline(
      ClipTokenizer tokenizer,
      CLIPTextModel textEncoder,
      UNet2DConditionModel unet,
      AutoencoderKL vae,
      DdimScheduler scheduler,
      int sampleSize) {
    this.sampleSize = sampleSize;
    this.tokenizer = tokenizer;
    this.textEncoder = textEncoder;
    this.unet = unet;
    this.vae = vae;
    this.scheduler = scheduler;
  }

  /**
   * Loads every component of a diffusers Stable Diffusion folder into {@code manager} as {@code
   * dtype}. The scheduler is DDIM built from the folder's scheduler config, whatever scheduler
   * class it names (as {@code DDIMScheduler.from_config} does).
   */
  public static StableDiffusionPipeline load(Path dir, NDManager manager, DataType dtype)
      throws IOException {
    return load(dir, manager, dtype, dtype);
  }

  /**
   * As {@link #load(Path, NDManager, DataType)}, with the UNet in {@code unetDtype} (an erasure's
   * frozen θ in float16, {@code method.precision: mixed}); the UNet takes and returns the other
   * components' dtype.
   */
  public static StableDiffusionPipeline load(
      Path dir, NDManager manager, DataType dtype, DataType unetDtype) throws IOException {
    DiffusersModelLayout layout = DiffusersModelLayout.open(dir);
    expect(layout, DiffusersModelLayout.TOKENIZER, "CLIPTokenizer", "CLIPTokenizerFast");
    expect(layout, DiffusersModelLayout.TEXT_ENCODER, "CLIPTextModel");
    expect(layout, DiffusersModelLayout.UNET, "UNet2DConditionModel");
    expect(layout, DiffusersModelLayout.VAE, "AutoencoderKL");

    ClipTokenizer tokenizer = ClipTokenizer.load(layout.tokenizer().folder());
    try {
      DiffusersModelLayout.Component text = layout.textEncoder();
      CLIPTextModel textEncoder = CLIPTextModel.load(text.config(), text.weights(), manager, dtype);
      UNet2DConditionModel unet = loadUNet(layout, manager, unetDtype);
      // diffusers' UNet2DConditionModel default; only the default image size depends on it.
      int sampleSize = unet.config().sampleSizeOr(64);
      DiffusersModelLayout.Component v = layout.vae();
      AutoencoderKL vae = AutoencoderKL.load(v.config(), v.weights(), manager, dtype);
      DdimScheduler scheduler =
          new DdimScheduler(DdimSchedulerConfig.read(layout.scheduler().config()));
      return new StableDiffusionPipeline(tokenizer, textEncoder, unet, vae, scheduler, sampleSize);
    } catch (IOException | RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /**
   * The UNet alone of a diffusers folder (e.g. an erased model, whose other components are the
   * original's).
   */
  public static UNet2DConditionModel loadUNet(Path dir, NDManager manager, DataType dtype)
      throws IOException {
    DiffusersModelLayout layout = DiffusersModelLayout.open(dir);
    expect(layout, DiffusersModelLayout.UNET, "UNet2DConditionModel");
    return loadUNet(layout, manager, dtype);
  }

  private static UNet2DConditionModel loadUNet(
      DiffusersModelLayout layout, NDManager manager, DataType dtype) throws IOException {
    DiffusersModelLayout.Component u = layout.unet();
    UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.read(u.config()));
    StateDictLoader.load(unet, u.weights(), manager, dtype);
    return unet;
  }

  /**
   * This pipeline with another UNet of the same architecture; every other component is shared, so
   * close only this one.
   */
  public StableDiffusionPipeline withUNet(UNet2DConditionModel other) {
    return new StableDiffusionPipeline(tokenizer, textEncoder, other, vae, scheduler, sampleSize);
  }

  private static void expect(DiffusersModelLayout layout, String name, String... classes)
      throws IOException {
    String found = layout.component(name).className();
    if (!Arrays.asList(classes).contains(found)) {
      throw new InvalidModelFolderException(
          layout.folder(),
          "component '" + name + "' must be " + String.join(" or ", classes) + ", found " + found);
    }
  }

  public ClipTokenizer tokenizer() {
    return tokenizer;
  }

  public CLIPTextModel textEncoder() {
    return textEncoder;
  }

  public UNet2DConditionModel unet() {
    return unet;
  }

  public AutoencoderKL vae() {
    return vae;
  }

  public DdimScheduler scheduler() {
    return scheduler;
  }

  /** The default image side: the UNet's {@code sample_size} times the VAE's downscaling. */
  public int defaultImageSize() {
    return sampleSize * vae.scaleFactor();
  }

  /**
   * The token ids of each prompt, padded and truncated to the tokenizer's length: {@code [n, 77]}.
   */
  public NDArray tokenize(NDManager manager, List<String> prompts) {
    int length = tokenizer.modelMaxLength();
    long[] ids = new long[prompts.size() * length];
    for (int i = 0; i < prompts.size(); i++) {
      System.arraycopy(tokenizer.encodePadded(prompts.get(i)), 0, ids, i * length, length);
    }
    return Tensors.create(manager, ids, new Shape(prompts.size(), length));
  }

  /** The text encoder's last hidden state for each prompt: {@code [n, 77, hidden]}. */
  public NDArray encodePrompts(NDManager manager, List<String> prompts) {
    return textEncoder.forward(tokenize(manager, prompts)).lastHiddenState();
  }

  /**
   * Standard normal latents, one {@link Random} per image seeded with its seed, so that an image's
   * noise depends on its seed only (not on its place in the batch).
   *
   * @return {@code [seeds.length, channels, height / 8, width / 8]}
   */
  public NDArray initialLatents(NDManager manager, long[] seeds, int height, int width) {
    int scale = vae.scaleFactor();
    if (height % scale != 0 || width % scale != 0) {
      throw new IllegalArgumentException(
          "height and width must be multiples of " + scale + ", got " + height + "x" + width);
    }
    int channels = unet.config().inChannels();
    int perImage = channels * (height / scale) * (width / scale);
    float[] values = new float[seeds.length * perImage];
    for (int i = 0; i < seeds.length; i++) {
      Random random = new Random(seeds[i]);
      for (int j = 0; j < perImage; j++) {
        values[i * perImage + j] = (float) random.nextGaussian() * scheduler.initNoiseSigma();
      }
    }
    return Tensors.create(
        manager, values, new Shape(seeds.length, channels, height / scale, width / scale));
  }

  /**
   * The denoising loop: {@code steps} DDIM steps from {@code latents}, each with classifier-free
   * guidance {@code noise_uncond + guidance * (noise_text - noise_uncond)} when guidance > 1.
   *
   * @param promptEmbeds {@code [n, 77, hidden]}
   * @param negativeEmbeds {@code [n, 77, hidden]} (the empty prompt's), unused when guidance <= 1
   * @param latents {@code [n, channels, h, w]}; not closed
   * @return the final latents (scaled, as the UNet sees them)
   */
  public NDArray denoise(
      NDArray promptEmbeds,
      NDArray negativeEmbeds,
      NDArray latents,
      int steps,
      float guidance,
      StepListener listener) {
    boolean guided = guidance > 1f;
    NDArray context = guided ? negativeEmbeds.concat(promptEmbeds, 0) : promptEmbeds;
    scheduler.setTimesteps(steps);
    int[] timesteps = scheduler.timesteps();
    NDArray current = latents;
    for (int i = 0; i < timesteps.length; i++) {
      int t = timesteps[i];
      NDArray next;
      // Each step's intermediates are freed at once, or native memory grows with the step count.
      try (NDScope scope = new NDScope()) {
        NDArray input = guided ? current.concat(current, 0) : current;
        NDArray timestep = Tensors.create(current.getManager(), new long[] {t});
        NDArray noise = unet.forward(input, timestep, context);
        if (guided) {
          NDList halves = noise.split(2, 0);
          NDArray uncond = halves.get(0);
          noise = uncond.add(Tensors.mul(halves.get(1).sub(uncond), guidance));
        }
        next = scheduler.step(noise, t, current).prevSample();
        NDScope.unregister(next);
      }
      if (current != latents) {
        current.close();
      }
      current = next;
      if (listener != null) {
        listener.onStep(i, t, current);
      }
    }
    if (guided) {
      context.close();
    }
    return current;
  }

  /**
   * DDIM inversion without guidance: {@code steps} inverse steps from clean latents towards the
   * noise that {@link #denoise} with the same conditioning maps back to them.
   *
   * @param latents scaled clean latents {@code [n, channels, h, w]}; not closed
   * @param embeds the conditioning, {@code [n, 77, hidden]} (the empty prompt's for purification)
   */
  public NDArray invert(NDArray latents, NDArray embeds, int steps) {
    DdimInverseScheduler inverse = new DdimInverseScheduler(scheduler.config());
    inverse.setTimesteps(steps);
    NDArray current = latents;
    for (int t : inverse.timesteps()) {
      NDArray next;
      try (NDScope scope = new NDScope()) {
        NDArray noise =
            unet.forward(current, Tensors.create(current.getManager(), new long[] {t}), embeds);
        next = inverse.step(noise, t, current).prevSample();
        NDScope.unregister(next);
      }
      if (current != latents) {
        current.close();
      }
      current = next;
    }
    return current;
  }

  /**
   * Images in [-1, 1] to scaled latents: the mean of the VAE's posterior times {@code
   * scaling_factor}.
   */
  public NDArray encodeImages(NDArray images) {
    NDArray mean = vae.encode(images).mean();
    if (vae.config().shiftFactor() != null) {
      mean = Tensors.sub(mean, vae.config().shiftFactor().floatValue());
    }
    return Tensors.mul(mean, vae.scalingFactor());
  }

  /**
   * Latents (scaled) to images in [0, 1], {@code [n, 3, h * 8, w * 8]}. One image at a time, each
   * in its own scope: the decoder's full-resolution intermediates (128 channels at 512x512 is 134
   * MB per tensor and image) would otherwise all stay alive for the whole batch until the caller's
   * scope ends; a full-size SD 1.5 erase was OOM-killed at 16 GiB in its evaluation's decode.
   */
  public NDArray decode(NDArray latents) {
    long n = latents.getShape().get(0);
    NDList images = new NDList();
    for (long i = 0; i < n; i++) {
      try (NDScope scope = new NDScope()) {
        NDArray image = decodeBatch(latents.get(new NDIndex("{}:{}", i, i + 1)));
        NDScope.unregister(image);
        images.add(image);
      }
    }
    if (n == 1) {
      return images.head();
    }
    NDArray out = NDArrays.concat(images, 0);
    images.close();
    return out;
  }

  private NDArray decodeBatch(NDArray latents) {
    NDArray unscaled = Tensors.div(latents, vae.scalingFactor());
    if (vae.config().shiftFactor() != null) {
      unscaled = Tensors.add(unscaled, vae.config().shiftFactor().floatValue());
    }
    return Tensors.add(Tensors.div(vae.decode(unscaled), 2f), 0.5f).clip(0f, 1f);
  }

  /**
   * Text to images: one image per (prompt, seed), prompts outer; the images of one seed run as one
   * batch.
   *
   * @return {@code [prompts * seeds, 3, height, width]} in [0, 1], ordered prompt by prompt
   */
  public NDArray generate(
      NDManager manager,
      List<String> prompts,
      long[] seeds,
      int height,
      int width,
      int steps,
      float guidance) {
    if (prompts.isEmpty() || seeds.length == 0) {
      throw new IllegalArgumentException("at least one prompt and one seed are needed");
    }
    NDArray embeds = encodePrompts(manager, prompts);
    NDArray negative = encodePrompts(manager, Collections.nCopies(prompts.size(), ""));
    List<NDArray> bySeed = new ArrayList<>();
    for (long seed : seeds) {
      long[] same = new long[prompts.size()];
      Arrays.fill(same, seed);
      NDArray start = initialLatents(manager, same, height, width);
      NDArray images = decode(denoise(embeds, negative, start, steps, guidance, null));
      bySeed.add(images);
    }
    // [seeds, prompts, ...] -> [prompts, seeds, ...]
    NDArray stacked = NDArrays.stack(new NDList(bySeed), 1);
    Shape s = stacked.getShape();
    return stacked.reshape(s.get(0) * s.get(1), s.get(2), s.get(3), s.get(4));
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
