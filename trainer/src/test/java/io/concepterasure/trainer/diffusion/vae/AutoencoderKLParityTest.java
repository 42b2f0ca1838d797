package io.concepterasure.trainer.diffusion.vae;

import static io.concepterasure.trainer.ParityFixture.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.ParityFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AutoencoderKL against diffusers: encoder moments and decoder image (norm groups 8 and 4). */
class AutoencoderKLParityTest {

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void encoderEqualsDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      AutoencoderKL vae =
          AutoencoderKL.load(
              f.dir().resolve("vae/config.json"),
              f.dir().resolve("vae/diffusion_pytorch_model.safetensors"),
              m,
              DataType.FLOAT32);
      DiagonalGaussianDistribution posterior = vae.encode(f.tensor("vae.encoder.image", m));
      float mean = maxAbsDiff(posterior.mean(), f.tensor("vae.encoder.mean", m));
      float logvar = maxAbsDiff(posterior.logvar(), f.tensor("vae.encoder.logvar", m));
      float std = maxAbsDiff(posterior.std(), f.tensor("vae.encoder.std", m));
      System.out.printf(
          "%s VAE encoder: mean %.3g, logvar %.3g, std %.3g%n", model, mean, logvar, std);
      assertThat(mean).isLessThanOrEqualTo(1e-4f);
      assertThat(logvar).isLessThanOrEqualTo(1e-4f);
      assertThat(std).isLessThanOrEqualTo(1e-4f);
      assertThat(vae.scaleFactor()).isEqualTo(2);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void decoderEqualsDiffusers(String model) throws Exception {
    try (ParityFixture f = ParityFixture.open(model);
        NDManager m = NDManager.newBaseManager()) {
      AutoencoderKL vae =
          AutoencoderKL.load(
              f.dir().resolve("vae/config.json"),
              f.dir().resolve("vae/diffusion_pytorch_model.safetensors"),
              m,
              DataType.FLOAT32);
      float image =
          maxAbsDiff(
              vae.decode(f.tensor("vae.decoder.latent", m)), f.tensor("vae.decoder.image", m));
      System.out.printf("%s VAE decoder: image %.3g%n", model, image);
      assertThat(image).isLessThanOrEqualTo(1e-4f);
    }
  }
}
