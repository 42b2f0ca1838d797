package io.concepterasure.trainer.diffusion.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.Module;
import java.io.IOException;
import java.nio.file.Path;

/**
 * diffusers' {@code AutoencoderKL}: Stable Diffusion's VAE, mapping images in [-1, 1] to latents 8x
 * smaller and back. Latents of the diffusion model are the VAE's times {@code scaling_factor} (so
 * that they have about unit variance); {@link #encode} and {@link #decode} work unscaled, as
 * diffusers' do.
 */
public final class AutoencoderKL extends Module {
  private final AutoencoderKLConfig config;
  private final Encoder encoder;
  private final Decoder decoder;
  private final Conv2d quantConv;
  private final Conv2d postQuantConv;

  public AutoencoderKL(AutoencoderKLConfig config) {
    this.config = config;
    int latent = config.latentChannels();
    this.encoder = child("encoder", new Encoder(config));
    this.decoder = child("decoder", new Decoder(config));
    this.quantConv =
        config.useQuantConv()
            ? child("quant_conv", new Conv2d(2L * latent, 2L * latent, 1, 1, 0))
            : null;
    this.postQuantConv =
        config.usePostQuantConv()
            ? child("post_quant_conv", new Conv2d(latent, latent, 1, 1, 0))
            : null;
  }

  /**
   * Builds the VAE from its {@code config.json} and loads its safetensors weights (a file or a
   * sharded index) into {@code manager} as {@code dtype}.
   */
  public static AutoencoderKL load(Path config, Path weights, NDManager manager, DataType dtype)
      throws IOException {
    AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.read(config));
    StateDictLoader.load(vae, weights, manager, dtype);
    return vae;
  }

  public AutoencoderKLConfig config() {
    return config;
  }

  /** How many times smaller the latent is than the image on each side. */
  public int scaleFactor() {
    return 1 << (config.blockOutChannels().size() - 1);
  }

  public float scalingFactor() {
    return config.scalingFactor().floatValue();
  }

  /**
   * @param image {@code [batch, 3, h, w]} in [-1, 1]
   */
  public DiagonalGaussianDistribution encode(NDArray image) {
    NDArray moments = encoder.forward(image);
    return new DiagonalGaussianDistribution(
        quantConv != null ? quantConv.forward(moments) : moments);
  }

  /**
   * @param latent unscaled ({@code latents / scaling_factor}); returns the image, not clamped
   */
  public NDArray decode(NDArray latent) {
    return decoder.forward(postQuantConv != null ? postQuantConv.forward(latent) : latent);
  }
}
