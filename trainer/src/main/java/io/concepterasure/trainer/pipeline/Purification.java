package io.concepterasure.trainer.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Collections;
import java.util.List;

/**
 * Purification (docs/method.md): an image's latent is DDIM-inverted by the original model on its
 * caption, and the erased UNet regenerates the image from that noise on the same caption. Where the
 * erased model predicts what the original did (every caption but the erased concepts', and the
 * empty prompt, which All but One holds in place), the regeneration retraces the inversion and
 * gives the image back; where it was changed, the image follows the change.
 */
public final class Purification {
  private final StableDiffusionPipeline original;
  private final StableDiffusionPipeline erased;
  private final int steps;
  private final float guidance;

  /**
   * @param original the model the images are inverted with; its text encoder, VAE and scheduler
   *     serve both directions (an erasure changes only the UNet)
   * @param erasedUNet the erased model's UNet, of the original's architecture
   * @param steps DDIM steps of the inversion and of the regeneration (the same grid both ways, or
   *     the regeneration does not retrace the inversion)
   * @param guidance classifier-free guidance of the regeneration; 1 or less: none, the only setting
   *     under which an unchanged model gives the image back (the inversion is unguided)
   */
  public Purification(
      StableDiffusionPipeline original,
      UNet2DConditionModel erasedUNet,
      int steps,
      float guidance) {
    if (!original.unet().config().equals(erasedUNet.config())) {
      throw new IllegalArgumentException(
          "the erased UNet's config differs from the original's: not an erasure of this model");
    }
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be at least 1, got " + steps);
    }
    this.original = original;
    this.erased = original.withUNet(erasedUNet);
    this.steps = steps;
    this.guidance = guidance;
  }

  /**
   * @param images {@code [n, 3, h, w]} in [0, 1], h and w multiples of the VAE's scale factor
   * @param captions one per image; "" inverts and regenerates on the empty prompt
   * @return the purified images, {@code [n, 3, h, w]} in [0, 1], in {@code manager}
   */
  public NDArray purify(NDManager manager, NDArray images, List<String> captions) {
    long n = images.getShape().get(0);
    if (captions.size() != n) {
      throw new IllegalArgumentException(captions.size() + " captions for " + n + " images");
    }
    int scale = original.vae().scaleFactor();
    long h = images.getShape().get(2);
    long w = images.getShape().get(3);
    if (h % scale != 0 || w % scale != 0) {
      throw new IllegalArgumentException(
          "image sides must be multiples of " + scale + ", got " + w + "x" + h);
    }
    try (NDScope scope = new NDScope()) {
      NDArray embeds = original.encodePrompts(manager, captions);
      // The VAE takes images in [-1, 1].
      NDArray latents = original.encodeImages(Tensors.sub(Tensors.mul(images, 2f), 1f));
      NDArray noise = original.invert(latents, embeds, steps);
      NDArray negative =
          guidance > 1f ? original.encodePrompts(manager, Collections.nCopies((int) n, "")) : null;
      NDArray regenerated = erased.denoise(embeds, negative, noise, steps, guidance, null);
      NDArray out = original.decode(regenerated);
      NDScope.unregister(out);
      return out;
    }
  }
}
