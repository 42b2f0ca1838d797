package io.concepterasure.trainer.diffusion.unet;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** What {@code UNet2DConditionModel.forward} asks of each entry of {@code down_blocks}. */
public interface DownBlock {
  /**
   * @param resSamples receives the states the up blocks will take as skip connections, in order
   * @return the block's output
   */
  NDArray forward(
      NDArray hiddenStates, NDArray temb, NDArray encoderHiddenStates, List<NDArray> resSamples);
}
