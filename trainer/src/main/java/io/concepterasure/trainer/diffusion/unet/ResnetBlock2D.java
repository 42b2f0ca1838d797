package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.nn.Activations;
import io.concepterasure.trainer.nn.Conv2d;
import io.concepterasure.trainer.nn.GroupNorm;
import io.concepterasure.trainer.nn.Linear;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.Tensors;
import java.util.function.UnaryOperator;

/**
 * diffusers' {@code ResnetBlock2D} with {@code time_embedding_norm="default"}: norm, act, conv,
 * plus the projected time embedding, norm, act, conv, then the (1x1-projected when channels change)
 * input added and the sum divided by {@code output_scale_factor}.
 */
public final class ResnetBlock2D extends Module {
  private final GroupNorm norm1;
  private final Conv2d conv1;
  private final Linear timeEmbProj;
  private final GroupNorm norm2;
  private final Conv2d conv2;
  private final Conv2d convShortcut;
  private final UnaryOperator<NDArray> nonlinearity;
  private final float outputScaleFactor;

  /**
   * @param tembChannels width of the time embedding, or 0 for none
   */
  public ResnetBlock2D(
      int inChannels,
      int outChannels,
      int tembChannels,
      int groups,
      float eps,
      String actFn,
      double outputScaleFactor) {
    this.norm1 = child("norm1", new GroupNorm(groups, inChannels, eps));
    this.conv1 = child("conv1", new Conv2d(inChannels, outChannels, 3, 1, 1));
    this.timeEmbProj =
        tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, outChannels)) : null;
    this.norm2 = child("norm2", new GroupNorm(groups, outChannels, eps));
    this.conv2 = child("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1));
    this.nonlinearity = Activations.get(actFn, "act_fn");
    this.convShortcut =
        inChannels != outChannels
            ? child("conv_shortcut", new Conv2d(inChannels, outChannels, 1, 1, 0))
            : null;
    this.outputScaleFactor = (float) outputScaleFactor;
  }

  /**
   * @param inputTensor {@code [batch, in, h, w]}
   * @param temb {@code [batch, temb]}, or {@code null}
   */
  public NDArray forward(NDArray inputTensor, NDArray temb) {
    return freeingIntermediates(
        () -> checkpointed(in -> compute(in.get(0), in.get(1)), inputTensor, temb));
  }

  private NDArray compute(NDArray inputTensor, NDArray temb) {
    // One intermediate at a time (thenClose): at 512x512 the VAE decoder's last resnets would
    // otherwise hold eight 134-268 MB tensors each until they return (measured: +2.3 GB in
    // `generate`'s decode at SD 1.5 size).
    NDArray h = thenClose(norm1.forward(inputTensor), nonlinearity::apply);
    h = thenClose(h, conv1::forward);
    if (timeEmbProj != null && temb != null) {
      NDArray t = timeEmbProj.forward(nonlinearity.apply(temb));
      h = thenClose(h, x -> x.add(t.expandDims(2).expandDims(3)));
    }
    h = thenClose(h, norm2::forward);
    h = thenClose(h, nonlinearity::apply);
    h = thenClose(h, conv2::forward);
    NDArray shortcut = convShortcut != null ? convShortcut.forward(inputTensor) : inputTensor;
    NDArray out = thenClose(h, shortcut::add);
    if (shortcut != inputTensor) {
      shortcut.close();
    }
    return outputScaleFactor == 1.0f ? out : thenClose(out, x -> Tensors.div(x, outputScaleFactor));
  }
}
