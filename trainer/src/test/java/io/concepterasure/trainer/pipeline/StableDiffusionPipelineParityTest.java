package io.concepterasure.trainer.pipeline;

import static io.concepterasure.trainer.ParityFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.ParityFixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole text-to-image path against diffusers' StableDiffusionPipeline: 10 guided DDIM steps
 * from the fixture's initial latents (torch's noise cannot be replayed in Java), then the VAE; and
 * DDIM inversion with the empty prompt and the regeneration from its result.
 */
class StableDiffusionPipelineParityTest {

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void guidedSampleEqualsDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager();
        StableDiffusionPipeline pipe = StableDiffusionPipeline.load(f.dir(), m, DataType.FLOAT32)) {
      assertThat(pipe.tokenize(m, List.of("a photo of a cat")).toLongArray())
          .containsExactly(f.tensor("sample.input_ids", m).toLongArray());
      assertThat(pipe.tokenize(m, List.of("")).toLongArray())
          .containsExactly(f.tensor("sample.negative_input_ids", m).toLongArray());
      NDArray embeds = pipe.encodePrompts(m, List.of("a photo of a cat"));
      NDArray negative = pipe.encodePrompts(m, List.of(""));
      float embedDiff =
          Math.max(
              maxAbsDiff(embeds, f.tensor("sample.prompt_embeds", m)),
              maxAbsDiff(negative, f.tensor("sample.negative_prompt_embeds", m)));

      float guidance = f.tensor("sample.guidance_scale", m).getFloat(0);
      NDArray perStep = f.tensor("sample.latents_per_step", m);
      List<Integer> timesteps = new ArrayList<>();
      float[] stepDiff = new float[10];
      NDArray latents =
          pipe.denoise(
              embeds,
              negative,
              f.tensor("sample.latents_init", m),
              10,
              guidance,
              (i, t, x) -> {
                timesteps.add(t);
                stepDiff[i] = maxAbsDiff(x, perStep.get(i));
              });
      assertThat(timesteps.stream().mapToLong(Integer::longValue).toArray())
          .containsExactly(f.tensor("sample.timesteps", m).toLongArray());
      float latentDiff = maxAbsDiff(latents, f.tensor("sample.latents_final", m));
      NDArray image = pipe.vae().decode(latents.div(pipe.vae().scalingFactor()));
      float imageDiff = maxAbsDiff(image, f.tensor("sample.image", m));
      System.out.printf(
          "%s pipeline (guidance %.1f): prompt embeds %.3g, per-step latents %s, final latents %.3g, "
              + "image %.3g%n",
          model, guidance, embedDiff, Arrays.toString(stepDiff), latentDiff, imageDiff);
      assertThat(embedDiff).isLessThanOrEqualTo(1e-4f);
      assertThat(latentDiff).isLessThanOrEqualTo(1e-3f);
      assertThat(imageDiff).isLessThanOrEqualTo(1e-3f);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void inversionAndRegenerationEqualDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager();
        StableDiffusionPipeline pipe = StableDiffusionPipeline.load(f.dir(), m, DataType.FLOAT32)) {
      NDArray latentIn = pipe.encodeImages(f.tensor("inversion.image", m));
      float inDiff = maxAbsDiff(latentIn, f.tensor("inversion.latent_in", m));
      NDArray empty = pipe.encodePrompts(m, List.of(""));
      NDArray noise = pipe.invert(latentIn, empty, 10);
      float outDiff = maxAbsDiff(noise, f.tensor("inversion.latent_out", m));
      NDArray back = pipe.denoise(empty, null, noise, 10, 1f, null);
      float backDiff = maxAbsDiff(back, f.tensor("inversion.reconstructed", m));
      System.out.printf(
          "%s inversion: latent_in %.3g, latent_out %.3g, reconstructed %.3g%n",
          model, inDiff, outDiff, backDiff);
      assertThat(inDiff).isLessThanOrEqualTo(1e-4f);
      assertThat(outDiff).isLessThanOrEqualTo(1e-3f);
      assertThat(backDiff).isLessThanOrEqualTo(1e-3f);
    }
  }
}
