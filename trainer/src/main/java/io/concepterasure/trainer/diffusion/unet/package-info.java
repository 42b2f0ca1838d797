/**
 * Stable Diffusion 1.x / 2.x's denoising UNet, diffusers' {@code UNet2DConditionModel}: one class
 * per diffusers module under diffusers' name, built from {@code unet/config.json} ({@link
 * io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig}), parameters named as the
 * checkpoint's keys. The layers shared with the text encoder and the VAE (linear, convolution,
 * norms, attention, feed-forward) are in {@link io.concepterasure.trainer.nn}.
 */
package io.concepterasure.trainer.diffusion.unet;
