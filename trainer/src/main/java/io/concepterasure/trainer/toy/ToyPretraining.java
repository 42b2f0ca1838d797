package io.concepterasure.trainer.toy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.scheduler.DdimSchedulerConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.diffusion.vae.AutoencoderKL;
import io.concepterasure.trainer.diffusion.vae.AutoencoderKLConfig;
import io.concepterasure.trainer.diffusion.vae.DiagonalGaussianDistribution;
import io.concepterasure.trainer.io.StateDictWriter;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.optim.AdamOptimizer;
import io.concepterasure.trainer.optim.IterationRandom;
import io.concepterasure.trainer.text.CLIPTextConfig;
import io.concepterasure.trainer.text.CLIPTextModel;
import io.concepterasure.trainer.text.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains the small text-to-image model of the toy world from scratch on {@link ShapesDataset} and
 * writes it as a diffusers Stable Diffusion folder: first the AutoencoderKL (reconstruction plus a
 * small KL term), then the CLIP text encoder and the UNet together (epsilon prediction, captions
 * dropped to "" one time in ten for classifier-free guidance, half of each batch on high-noise
 * timesteps, which made the prototype's samples hold their shape).
 */
public final class ToyPretraining {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final float KL_WEIGHT = 1e-4f;
  private static final float CAPTION_DROPOUT = 0.1f;
  private static final int HIGH_NOISE_FROM = 500;

  /** Steps, batch size, learning rates and seed of a pretraining run. */
  public record Schedule(
      int vaeSteps,
      int unetSteps,
      int batchSize,
      float vaeLearningRate,
      float unetLearningRate,
      long seed) {}

  private final Schedule settings;
  private final ShapesDataset data;
  private final StepListener progress;

  /** Told after each training step of a stage ("vae", "unet"). */
  @FunctionalInterface
  public interface StepListener {
    void afterStep(String stage, int step, int steps, Map<String, Double> losses);

    default void beforeStage(String stage, int steps) {}
  }

  public ToyPretraining(Schedule settings, StepListener progress) {
    this.settings = settings;
    this.data = new ShapesDataset(settings.seed());
    this.progress = progress;
  }

  /**
   * Writes the trained model to {@code out} (a diffusers folder), with the tokenizer files of
   * {@code tokenizerFolder}.
   */
  public void run(Path tokenizerFolder, Path out, NDManager manager) throws IOException {
    Files.createDirectories(out);
    writeConfigs(out);
    copyTokenizer(tokenizerFolder, out.resolve("tokenizer"));

    AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.read(out.resolve("vae/config.json")));
    vae.initialize(manager, settings.seed());
    trainVae(vae, manager);
    double scaling = latentScalingFactor(vae, manager);
    Map<String, Object> vaeConfig = vaeConfig(scaling);
    JSON.writeValue(out.resolve("vae/config.json").toFile(), vaeConfig);
    vae = reconfigured(vae, out.resolve("vae/config.json"));
    StateDictWriter.save(vae, out.resolve("vae/diffusion_pytorch_model.safetensors"));

    CLIPTextModel text =
        new CLIPTextModel(CLIPTextConfig.read(out.resolve("text_encoder/config.json")));
    text.initialize(manager, settings.seed() + 1);
    UNet2DConditionModel unet =
        new UNet2DConditionModel(UNet2DConditionConfig.read(out.resolve("unet/config.json")));
    unet.initialize(manager, settings.seed() + 2);
    try (ClipTokenizer tokenizer = ClipTokenizer.load(out.resolve("tokenizer"))) {
      trainDenoiser(
          vae,
          text,
          unet,
          tokenizer,
          manager,
          new DdimScheduler(
              DdimSchedulerConfig.read(out.resolve("scheduler/scheduler_config.json"))));
    }
    StateDictWriter.save(text, out.resolve("text_encoder/model.safetensors"));
    StateDictWriter.save(unet, out.resolve("unet/diffusion_pytorch_model.safetensors"));
  }

  private static AutoencoderKL reconfigured(AutoencoderKL trained, Path config) {
    // The scaling factor lives in the config; the weights stay.
    AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.read(config));
    Map<String, Parameter> from = trained.namedParameters();
    vae.namedParameters().forEach((name, p) -> p.set(from.get(name).array()));
    return vae;
  }

  void trainVae(AutoencoderKL vae, NDManager manager) {
    train(
        vae,
        settings.vaeSteps(),
        settings.vaeLearningRate(),
        "vae",
        (step, random) -> {
          List<ShapesDataset.Sample> batch = batch(step, 7);
          NDArray images = ShapesDataset.toBatch(manager, batch);
          DiagonalGaussianDistribution posterior = vae.encode(images);
          NDArray z = posterior.sample(random.normal(manager, posterior.mean().getShape()));
          NDArray reconstruction = vae.decode(z);
          NDArray mse = reconstruction.sub(images).square().mean();
          NDArray kl =
              Tensors.mul(
                      Tensors.sub(posterior.mean().square().add(posterior.var()), 1)
                          .sub(posterior.logvar()),
                      0.5f)
                  .mean();
          Map<String, NDArray> terms = new LinkedHashMap<>();
          terms.put("loss", mse.add(Tensors.mul(kl, KL_WEIGHT)));
          terms.put("mse", mse);
          terms.put("kl", kl);
          return terms;
        });
  }

  /**
   * 1 / std of the VAE's latents over a sample of the data, as Stable Diffusion's 0.18215 was
   * found.
   */
  double latentScalingFactor(AutoencoderKL vae, NDManager manager) {
    try (NDScope scope = new NDScope()) {
      List<ShapesDataset.Sample> samples = new ArrayList<>();
      for (int i = 0; i < 512; i++) {
        samples.add(data.sample(ShapesDataset.HELD_OUT_START + i));
      }
      NDArray latents = vae.encode(ShapesDataset.toBatch(manager, samples)).mean();
      double std = Math.sqrt(latents.sub(latents.mean()).square().mean().getFloat());
      return 1.0 / std;
    }
  }

  void trainDenoiser(
      AutoencoderKL vae,
      CLIPTextModel text,
      UNet2DConditionModel unet,
      ClipTokenizer tokenizer,
      NDManager manager,
      DdimScheduler scheduler) {
    Module both =
        new Module() {
          {
            child("text_encoder", text);
            child("unet", unet);
          }
        };
    int trainSteps = scheduler.config().numTrainTimesteps();
    int length = tokenizer.modelMaxLength();
    train(
        both,
        settings.unetSteps(),
        settings.unetLearningRate(),
        "unet",
        (step, random) -> {
          List<ShapesDataset.Sample> batch = batch(step, 11);
          int n = batch.size();
          long[] ids = new long[n * length];
          int[] timesteps = new int[n];
          for (int i = 0; i < n; i++) {
            String caption =
                random.nextInt(1000) < CAPTION_DROPOUT * 1000 ? "" : batch.get(i).caption();
            System.arraycopy(tokenizer.encodePadded(caption), 0, ids, i * length, length);
            timesteps[i] =
                i < n / 2
                    ? HIGH_NOISE_FROM + random.nextInt(trainSteps - HIGH_NOISE_FROM)
                    : random.nextInt(trainSteps);
          }
          NDArray latents;
          // The VAE is frozen here: its latents carry no gradient.
          DiagonalGaussianDistribution posterior =
              vae.encode(ShapesDataset.toBatch(manager, batch));
          latents =
              Tensors.mul(
                      posterior.sample(random.normal(manager, posterior.mean().getShape())),
                      vae.scalingFactor())
                  .stopGradient();
          NDArray noise = random.normal(manager, latents.getShape());
          NDArray noisy = scheduler.addNoise(latents, noise, timesteps);
          NDArray context =
              text.forward(Tensors.create(manager, ids, new Shape(n, length))).lastHiddenState();
          float[] t = new float[n];
          for (int i = 0; i < n; i++) {
            t[i] = timesteps[i];
          }
          NDArray prediction = unet.forward(noisy, Tensors.create(manager, t), context);
          NDArray mse = prediction.sub(noise).square().mean();
          return Map.of("loss", mse);
        });
  }

  @FunctionalInterface
  interface Loss {
    Map<String, NDArray> compute(int step, IterationRandom random);
  }

  /** Adam on every parameter of {@code model}; each step in its own NDScope. */
  private void train(Module model, int steps, float learningRate, String stage, Loss loss) {
    Map<String, Parameter> parameters = model.namedParameters();
    parameters.values().forEach(p -> p.array().setRequiresGradient(true));
    AdamOptimizer optimizer = new AdamOptimizer(parameters, learningRate);
    progress.beforeStage(stage, steps);
    try {
      for (int step = 0; step < steps; step++) {
        Map<String, Double> values = new LinkedHashMap<>();
        try (NDScope scope = new NDScope()) {
          IterationRandom random =
              new IterationRandom(settings.seed() * 31 + stage.hashCode(), step);
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            Map<String, NDArray> terms = loss.compute(step, random);
            terms.forEach((name, value) -> values.put(name, (double) value.getFloat()));
            if (!Double.isFinite(values.get("loss"))) {
              throw new IllegalStateException(
                  stage + " loss is not finite at step " + step + " " + values);
            }
            collector.backward(terms.get("loss"));
          }
          optimizer.step();
        }
        progress.afterStep(stage, step, steps, values);
      }
    } finally {
      parameters.values().forEach(p -> p.array().setRequiresGradient(false));
      optimizer.close();
    }
  }

  private List<ShapesDataset.Sample> batch(long step, int stream) {
    List<ShapesDataset.Sample> batch = new ArrayList<>(settings.batchSize());
    for (int i = 0; i < settings.batchSize(); i++) {
      batch.add(data.sample((step * 16 + stream) * settings.batchSize() + i));
    }
    return batch;
  }

  private void writeConfigs(Path out) throws IOException {
    Map<String, Object> index = new LinkedHashMap<>();
    index.put("_class_name", "StableDiffusionPipeline");
    index.put("_diffusers_version", "0.42.1");
    index.put("feature_extractor", Arrays.asList(null, null));
    index.put("image_encoder", Arrays.asList(null, null));
    index.put("requires_safety_checker", false);
    index.put("safety_checker", Arrays.asList(null, null));
    index.put("scheduler", List.of("diffusers", "DDIMScheduler"));
    index.put("text_encoder", List.of("transformers", "CLIPTextModel"));
    index.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
    index.put("unet", List.of("diffusers", "UNet2DConditionModel"));
    index.put("vae", List.of("diffusers", "AutoencoderKL"));
    write(out.resolve("model_index.json"), index);

    Map<String, Object> scheduler = new LinkedHashMap<>();
    scheduler.put("_class_name", "DDIMScheduler");
    scheduler.put("_diffusers_version", "0.42.1");
    scheduler.put("beta_start", 0.00085);
    scheduler.put("beta_end", 0.012);
    scheduler.put("beta_schedule", "scaled_linear");
    scheduler.put("clip_sample", false);
    scheduler.put("num_train_timesteps", 1000);
    scheduler.put("prediction_type", "epsilon");
    scheduler.put("set_alpha_to_one", false);
    scheduler.put("steps_offset", 1);
    scheduler.put("timestep_spacing", "leading");
    write(out.resolve("scheduler/scheduler_config.json"), scheduler);

    Map<String, Object> textConfig = new LinkedHashMap<>();
    textConfig.put("architectures", List.of("CLIPTextModel"));
    textConfig.put("model_type", "clip_text_model");
    textConfig.put("vocab_size", 49408);
    textConfig.put("hidden_size", 32);
    textConfig.put("intermediate_size", 64);
    textConfig.put("num_hidden_layers", 2);
    textConfig.put("num_attention_heads", 4);
    textConfig.put("max_position_embeddings", 77);
    textConfig.put("hidden_act", "quick_gelu");
    textConfig.put("layer_norm_eps", 1e-5);
    textConfig.put("projection_dim", 32);
    textConfig.put("bos_token_id", 49406);
    textConfig.put("eos_token_id", 49407);
    textConfig.put("pad_token_id", 49407);
    textConfig.put("torch_dtype", "float32");
    write(out.resolve("text_encoder/config.json"), textConfig);

    write(out.resolve("vae/config.json"), vaeConfig(0.18215));

    Map<String, Object> unet = new LinkedHashMap<>();
    unet.put("_class_name", "UNet2DConditionModel");
    unet.put("_diffusers_version", "0.42.1");
    unet.put("sample_size", ShapesDataset.SIZE / 2);
    unet.put("in_channels", 4);
    unet.put("out_channels", 4);
    unet.put(
        "down_block_types", List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"));
    unet.put("up_block_types", List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"));
    unet.put("block_out_channels", List.of(32, 64, 64));
    unet.put("layers_per_block", 1);
    unet.put("cross_attention_dim", 32);
    unet.put("attention_head_dim", 4);
    unet.put("norm_num_groups", 8);
    unet.put("act_fn", "silu");
    unet.put("flip_sin_to_cos", true);
    unet.put("freq_shift", 0);
    write(out.resolve("unet/config.json"), unet);
  }

  private static Map<String, Object> vaeConfig(double scalingFactor) {
    Map<String, Object> vae = new LinkedHashMap<>();
    vae.put("_class_name", "AutoencoderKL");
    vae.put("_diffusers_version", "0.42.1");
    vae.put("in_channels", 3);
    vae.put("out_channels", 3);
    vae.put("down_block_types", List.of("DownEncoderBlock2D", "DownEncoderBlock2D"));
    vae.put("up_block_types", List.of("UpDecoderBlock2D", "UpDecoderBlock2D"));
    vae.put("block_out_channels", List.of(32, 64));
    vae.put("layers_per_block", 1);
    vae.put("act_fn", "silu");
    vae.put("latent_channels", 4);
    vae.put("norm_num_groups", 8);
    vae.put("sample_size", ShapesDataset.SIZE);
    vae.put("scaling_factor", scalingFactor);
    return vae;
  }

  private static void write(Path file, Map<String, Object> value) throws IOException {
    Files.createDirectories(file.getParent());
    JSON.writeValue(file.toFile(), value);
  }

  private static void copyTokenizer(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (String name :
        List.of("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json")) {
      Path source = from.resolve(name);
      if (!Files.isRegularFile(source)) {
        throw new IOException("tokenizer folder " + from + " has no " + name);
      }
      Files.copy(source, to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
