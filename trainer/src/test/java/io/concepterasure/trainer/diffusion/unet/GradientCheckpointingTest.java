package io.concepterasure.trainer.diffusion.unet;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.erasure.TrainableParameterSet;
import io.concepterasure.trainer.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Gradient checkpointing recomputes the transformer blocks and resnets in the backward pass; the
 * gradients it gives must be those of the plain graph, for every trainable set (including sets
 * whose first trainable block has no input that requires a gradient) and for the input itself.
 */
class GradientCheckpointingTest {
  private record Result(float[] output, Map<String, float[]> gradients, float[] inputGradient) {}

  private static Result run(NDManager manager, TrainableParameterSet set, boolean checkpointing) {
    UNet2DConditionModel unet =
        new UNet2DConditionModel(UNet2DConditionConfig.parse(UNet2DConditionModelTest.TINY));
    manager.getEngine().setRandomSeed(11);
    unet.initialize(manager, 7);
    UNet2DConditionModelTest.randomBiases(unet, manager);
    Map<String, Parameter> trainable = set.select(unet.namedParameters());
    unet.namedParameters()
        .forEach((name, p) -> p.array().setRequiresGradient(trainable.containsKey(name)));
    unet.setGradientCheckpointing(checkpointing);
    NDArray sample = manager.randomNormal(new Shape(2, 4, 8, 8));
    NDArray context = manager.randomNormal(new Shape(2, 5, 12));
    sample.setRequiresGradient(true);
    float[] output;
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray out = unet.forward(sample, manager.create(new float[] {10f, 500f}), context);
      output = out.toFloatArray();
      collector.backward(out.square().mean());
    }
    Map<String, float[]> gradients = new LinkedHashMap<>();
    trainable.forEach((name, p) -> gradients.put(name, p.array().getGradient().toFloatArray()));
    return new Result(output, gradients, sample.getGradient().toFloatArray());
  }

  @ParameterizedTest
  @EnumSource(TrainableParameterSet.class)
  void givesThePlainGraphsGradients(TrainableParameterSet set) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Result plain = run(manager, set, false);
      Result checkpointed = run(manager, set, true);
      assertClose("output", checkpointed.output(), plain.output());
      assertThat(checkpointed.gradients().keySet()).isEqualTo(plain.gradients().keySet());
      plain
          .gradients()
          .forEach(
              (name, expected) -> {
                assertThat(max(expected)).as("%s has a gradient", name).isGreaterThan(0f);
                assertClose(name, checkpointed.gradients().get(name), expected);
              });
      assertClose("input gradient", checkpointed.inputGradient(), plain.inputGradient());
    }
  }

  /** Within 1e-5 of the tensor's largest entry: recomputation reruns the same kernels. */
  private static void assertClose(String what, float[] actual, float[] expected) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    float scale = Math.max(max(expected), 1e-12f);
    float worst = 0f;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    assertThat(worst / scale).as(what).isLessThanOrEqualTo(1e-5f);
  }

  private static float max(float[] values) {
    float m = 0f;
    for (float v : values) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
