package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** What {@code UNet2DConditionModel.forward} asks of each entry of {@code up_blocks}. */
public interface UpBlock {
  /** How many skip connections the block consumes (one per resnet). */
  int numResnets();

  /**
   * @param resSamples the skip connections for this block, the last one consumed first
   * @param upsampleSize height and width to upsample to, or {@code null} for a final block
   */
  NDArray forward(
      NDArray hiddenStates,
      List<NDArray> resSamples,
      NDArray temb,
      NDArray encoderHiddenStates,
      long[] upsampleSize);
}
