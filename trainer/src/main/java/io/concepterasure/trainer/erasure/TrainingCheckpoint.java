package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import io.concepterasure.trainer.optim.IterationRandom;
import java.util.Map;

/**
 * What a resumed run needs: the next iteration, the trainable weights, the optimizer's moments and
 * step, and the last losses. The random-generator state is (seed, iteration) itself, see {@link
 * IterationRandom}.
 */
public record TrainingCheckpoint(
    int iteration,
    long optimizerStep,
    Map<String, NDArray> weights,
    Map<String, NDArray> adamMean,
    Map<String, NDArray> adamVariance,
    Map<String, Double> lastLosses) {}
