package io.concepterasure.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.nn.FusedOps;
import io.concepterasure.trainer.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamOptimizerTest {
  private static final float[] START = {0.5f, -1.0f, 2.0f};
  private static final float[][] GRADIENTS = {
    {0.1f, -0.2f, 3.0f}, {-0.4f, 0.0f, 1.0f}, {1e-3f, 5f, -2f}
  };

  /** Sets the gradient of {@code weight} to {@code g} (the gradient of sum(weight * g)). */
  private static void backward(NDArray weight, float[] g) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      collector.backward(weight.mul(weight.getManager().create(g)).sum());
    }
  }

  @Test
  void followsTorchOptimAdamsArithmetic() {
    float lr = 0.01f;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    try (NDManager manager = NDManager.newBaseManager()) {
      Parameter p = new Parameter(new Shape(3));
      p.set(manager.create(START));
      p.array().setRequiresGradient(true);
      AdamOptimizer adam = new AdamOptimizer(Map.of("w", p), lr);
      double[] w = {START[0], START[1], START[2]};
      double[] m = new double[3];
      double[] v = new double[3];
      for (int t = 1; t <= GRADIENTS.length; t++) {
        try (NDScope scope = new NDScope()) {
          backward(p.array(), GRADIENTS[t - 1]);
          adam.step();
        }
        // torch.optim.Adam (no weight decay, no amsgrad), in doubles.
        for (int i = 0; i < 3; i++) {
          double g = GRADIENTS[t - 1][i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          double denominator = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
          w[i] -= lr / (1 - Math.pow(b1, t)) * m[i] / denominator;
        }
        float[] actual = p.array().toFloatArray();
        for (int i = 0; i < 3; i++) {
          assertThat((double) actual[i]).as("step %d, w[%d]", t, i).isCloseTo(w[i], offset(1e-6));
        }
        // Freed, as zero_grad(set_to_none=True) frees it (DJL reads a freed gradient as zeros);
        // the next step's numbers show the next backward pass does not add to the old one.
        assertThat(p.array().getGradient().toFloatArray()).containsOnly(0f);
      }
      adam.close();
    }
  }

  /** Three steps of a 1000-entry parameter, fused or in DJL's operators: the final weights. */
  private static float[] threeSteps(boolean fused) {
    String before = System.getProperty(FusedOps.ENABLED_PROPERTY);
    System.setProperty(FusedOps.ENABLED_PROPERTY, Boolean.toString(fused));
    Engine.getInstance().setRandomSeed(20261203);
    try (NDManager manager = NDManager.newBaseManager()) {
      Parameter p = new Parameter(new Shape(1000));
      p.set(manager.randomNormal(new Shape(1000)));
      p.array().setRequiresGradient(true);
      NDArray[] gradients = new NDArray[3];
      for (int t = 0; t < 3; t++) {
        gradients[t] = manager.randomNormal(new Shape(1000));
      }
      try (AdamOptimizer adam = new AdamOptimizer(Map.of("w", p), 0.01f)) {
        for (NDArray g : gradients) {
          try (NDScope scope = new NDScope()) {
            backward(p.array(), g.toFloatArray());
            adam.step();
          }
        }
      }
      return p.array().toFloatArray();
    } finally {
      if (before == null) {
        System.clearProperty(FusedOps.ENABLED_PROPERTY);
      } else {
        System.setProperty(FusedOps.ENABLED_PROPERTY, before);
      }
    }
  }

  @Test
  void theFusedUpdateEqualsTheUpdateInDjlsOperators() {
    float[] fused = threeSteps(true);
    float[] unfused = threeSteps(false);
    float[] start;
    Engine.getInstance().setRandomSeed(20261203);
    try (NDManager manager = NDManager.newBaseManager()) {
      start = manager.randomNormal(new Shape(1000)).toFloatArray();
    }
    double moved = 0;
    for (int i = 0; i < fused.length; i++) {
      // lerp_ and addcdiv_ round differently from the spelled-out update: float rounding only.
      assertThat(fused[i]).as("w[%d]", i).isCloseTo(unfused[i], offset(1e-6f));
      moved += Math.abs(fused[i] - start[i]) / fused.length;
    }
    // The weights moved (Adam's first step moves each by the learning rate, 0.01).
    assertThat(moved).isGreaterThan(5e-3);
  }

  @Test
  void freesEachParametersTemporariesBeforeTheStepEnds() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, Parameter> parameters = new LinkedHashMap<>();
      for (int i = 0; i < 3; i++) {
        Parameter p = new Parameter(new Shape(3));
        p.set(manager.create(START));
        p.array().setRequiresGradient(true);
        parameters.put("w" + i, p);
      }
      try (AdamOptimizer adam = new AdamOptimizer(parameters, 0.01f);
          NDScope step = new NDScope()) {
        parameters.values().forEach(p -> backward(p.array(), GRADIENTS[0]));
        int before = manager.getManagedArrays().size();
        adam.step();
        // Still inside the caller's scope: nothing the update made is left alive.
        assertThat(manager.getManagedArrays().size()).isEqualTo(before);
      }
    }
  }
}
