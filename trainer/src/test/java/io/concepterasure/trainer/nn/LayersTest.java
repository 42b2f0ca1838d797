package io.concepterasure.trainer.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class LayersTest {
  @Test
  void initialisationIsPyTorchsDefaultAndFixedBySeed() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Conv2d a = new Conv2d(16, 8, 3, 1, 1);
      Conv2d b = new Conv2d(16, 8, 3, 1, 1);
      a.initialize(manager, 11);
      b.initialize(manager, 11);
      NDArray w = a.namedParameters().get("weight").array();
      double bound = 1 / Math.sqrt(16 * 9);
      assertThat((double) w.abs().max().getFloat())
          .isLessThanOrEqualTo(bound)
          .isGreaterThan(bound * 0.9);
      assertThat(w.contentEquals(b.namedParameters().get("weight").array())).isTrue();
      assertThat(a.namedParameters().get("bias").array().abs().sum().getFloat()).isZero();
      Conv2d c = new Conv2d(16, 8, 3, 1, 1);
      c.initialize(manager, 12);
      assertThat(w.contentEquals(c.namedParameters().get("weight").array())).isFalse();
    }
  }

  @Test
  void feedForwardKeepsDiffusersPositions() {
    FeedForward ff = new FeedForward(8, 4, "geglu", true);
    assertThat(ff.namedParameters().keySet())
        .containsExactly("net.0.proj.weight", "net.0.proj.bias", "net.2.weight", "net.2.bias");
    assertThat(ff.namedParameters().get("net.0.proj.weight").shape()).isEqualTo(new Shape(64, 8));
    assertThatThrownBy(() -> new FeedForward(8, 4, "gelu-approximate", true))
        .hasMessageContaining("activation_fn");
  }

  @Test
  void gegluGatesTheFirstHalfWithExactGeluOfTheSecond() {
    try (NDManager manager = NDManager.newBaseManager()) {
      GEGLU geglu = new GEGLU(1, 1, false);
      geglu
          .namedParameters()
          .get("proj.weight")
          .set(manager.create(new float[] {2f, 1f}, new Shape(2, 1)));
      float y = geglu.forward(manager.create(new float[] {1f}, new Shape(1, 1))).getFloat();
      // 2 * gelu(1) with gelu(1) = 0.5 * (1 + erf(1 / sqrt 2)) = 0.8413447
      assertThat(y).isCloseTo(2 * 0.8413447f, within(1e-6f));
    }
  }

  @Test
  void layerNormUsesItsEps() {
    try (NDManager manager = NDManager.newBaseManager()) {
      LayerNorm norm = new LayerNorm(2, 1.0f);
      norm.initialize(manager, 0);
      // mean 0, variance 1: (x - 0) / sqrt(1 + eps) with eps 1 halves the variance
      float[] y =
          norm.forward(manager.create(new float[] {1f, -1f}, new Shape(1, 2))).toFloatArray();
      assertThat(y[0]).isCloseTo((float) (1 / Math.sqrt(2)), within(1e-6f));
    }
  }

  @Test
  void linearAndConvHaveTorchShapes() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Linear linear = new Linear(3, 5);
      linear.initialize(manager, 0);
      assertThat(linear.forward(manager.ones(new Shape(2, 7, 3))).getShape())
          .isEqualTo(new Shape(2, 7, 5));
      Conv2d down = new Conv2d(3, 4, 3, 2, 1);
      down.initialize(manager, 0);
      assertThat(down.forward(manager.ones(new Shape(1, 3, 8, 8))).getShape())
          .isEqualTo(new Shape(1, 4, 4, 4));
    }
  }

  @Test
  void unknownActivationNamesItsField() {
    assertThatThrownBy(() -> Activations.get("tanh", "act_fn"))
        .hasMessageContaining("act_fn")
        .hasMessageContaining("tanh");
  }
}
