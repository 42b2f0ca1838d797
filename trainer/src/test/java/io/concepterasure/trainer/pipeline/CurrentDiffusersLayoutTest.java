package io.concepterasure.trainer.pipeline;

import static io.concepterasure.trainer.ParityFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import io.concepterasure.trainer.diffusion.vae.AutoencoderKL;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A pipeline saved by current diffusers (0.42) and transformers (5.23) as they save it: {@code
 * tokenizer.json} alone, text encoder keys without {@code text_model.}, sharded UNet and text
 * encoder weights with an index, a bf16 variant of the VAE (fixture {@code sd1-tiny-current}, the
 * weights of {@code sd1-tiny}, whose folder has the published checkpoints' layout). Both load and
 * generate the same latents, bit for bit, and diffusers' within the parity tolerance.
 */
class CurrentDiffusersLayoutTest {
  private static final Path CURRENT = ParityFixture.root().resolve("sd1-tiny-current");

  @Test
  void theFixtureHasTheCurrentLayout() throws Exception {
    assertThat(CURRENT.resolve("tokenizer/tokenizer.json")).isRegularFile();
    assertThat(CURRENT.resolve("tokenizer/vocab.json")).doesNotExist();
    assertThat(CURRENT.resolve("tokenizer/merges.txt")).doesNotExist();
    assertThat(CURRENT.resolve("unet/diffusion_pytorch_model.safetensors")).doesNotExist();
    assertThat(Files.readString(CURRENT.resolve("text_encoder/model.safetensors.index.json")))
        .contains("\"embeddings.token_embedding.weight\"")
        .doesNotContain("text_model.");
    DiffusersModelLayout layout = DiffusersModelLayout.open(CURRENT);
    assertThat(layout.unet().weights().getFileName().toString())
        .isEqualTo("diffusion_pytorch_model.safetensors.index.json");
    assertThat(layout.textEncoder().weights().getFileName().toString())
        .isEqualTo("model.safetensors.index.json");
  }

  @Test
  void loadsAndGeneratesIdenticallyToThePublishedLayout() throws Exception {
    try (ParityFixture f = ParityFixture.open("sd1-tiny");
        NDManager m = NDManager.newBaseManager();
        StableDiffusionPipeline published =
            StableDiffusionPipeline.load(f.dir(), m, DataType.FLOAT32);
        StableDiffusionPipeline current =
            StableDiffusionPipeline.load(CURRENT, m, DataType.FLOAT32)) {
      assertSameParameters(published.textEncoder(), current.textEncoder());
      assertSameParameters(published.unet(), current.unet());
      assertSameParameters(published.vae(), current.vae());

      List<String> prompts = List.of("a photo of a cat", "");
      assertThat(current.tokenize(m, prompts).toLongArray())
          .containsExactly(published.tokenize(m, prompts).toLongArray());
      float guidance = f.tensor("sample.guidance_scale", m).getFloat(0);
      NDArray[] latents = new NDArray[2];
      StableDiffusionPipeline[] pipes = {published, current};
      for (int i = 0; i < 2; i++) {
        StableDiffusionPipeline pipe = pipes[i];
        latents[i] =
            pipe.denoise(
                pipe.encodePrompts(m, List.of("a photo of a cat")),
                pipe.encodePrompts(m, List.of("")),
                f.tensor("sample.latents_init", m),
                10,
                guidance,
                (step, t, x) -> {});
      }
      assertThat(Arrays.equals(latents[1].toFloatArray(), latents[0].toFloatArray()))
          .as("latents equal bit for bit (max |diff| %s)", maxAbsDiff(latents[1], latents[0]))
          .isTrue();
      assertThat(maxAbsDiff(latents[1], f.tensor("sample.latents_final", m)))
          .isLessThanOrEqualTo(1e-3f);
    }
  }

  @Test
  void theBf16VariantLoadsWhenAsked() throws Exception {
    DiffusersModelLayout.Component vae =
        DiffusersModelLayout.open(CURRENT, "bf16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS)
            .vae();
    assertThat(vae.weights().getFileName().toString())
        .isEqualTo("diffusion_pytorch_model.bf16.safetensors");
    DiffusersModelLayout.Component fp32 = DiffusersModelLayout.open(CURRENT).vae();
    try (NDManager m = NDManager.newBaseManager()) {
      AutoencoderKL half = AutoencoderKL.load(vae.config(), vae.weights(), m, DataType.FLOAT32);
      AutoencoderKL full = AutoencoderKL.load(fp32.config(), fp32.weights(), m, DataType.FLOAT32);
      Map<String, Parameter> expected = full.namedParameters();
      for (Map.Entry<String, Parameter> p : half.namedParameters().entrySet()) {
        NDArray want = expected.get(p.getKey()).array();
        NDArray got = p.getValue().array();
        // bf16 keeps 8 significant bits: each value within 2^-8 of itself.
        float tolerance = want.abs().max().getFloat() / 256f + 1e-30f;
        assertThat(maxAbsDiff(got, want)).as(p.getKey()).isLessThanOrEqualTo(tolerance);
      }
    }
  }

  private static void assertSameParameters(Module a, Module b) {
    Map<String, Parameter> left = a.namedParameters();
    Map<String, Parameter> right = b.namedParameters();
    assertThat(right.keySet()).isEqualTo(left.keySet());
    for (String name : left.keySet()) {
      // Arrays.equals: AssertJ's containsExactly diffs in quadratic time (1.6 M embedding values).
      assertThat(
              Arrays.equals(
                  right.get(name).array().toFloatArray(), left.get(name).array().toFloatArray()))
          .as(
              "%s equal bit for bit (max |diff| %s)",
              name, maxAbsDiff(right.get(name).array(), left.get(name).array()))
          .isTrue();
    }
  }
}
