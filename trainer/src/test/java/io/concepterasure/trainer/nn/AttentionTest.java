package io.concepterasure.trainer.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class AttentionTest {
  @Test
  void namesItsParametersAsDiffusers() {
    Attention attn = Attention.builder(32).crossAttentionDim(24L).heads(4).dimHead(8).build();
    assertThat(attn.namedParameters())
        .containsOnlyKeys(
            "to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight", "to_out.0.bias");
    assertThat(attn.namedParameters().get("to_k.weight").shape()).isEqualTo(new Shape(32, 24));
  }

  @Test
  void crossAttentionMatchesPerHeadLoops() {
    long batch = 2, queries = 5, keys = 3, queryDim = 12, contextDim = 7;
    int heads = 3;
    long dimHead = 4;
    try (NDManager manager = NDManager.newBaseManager()) {
      Attention attn =
          Attention.builder(queryDim)
              .crossAttentionDim(contextDim)
              .heads(heads)
              .dimHead(dimHead)
              .build();
      attn.initialize(manager, 42);
      NDArray x = manager.randomNormal(new Shape(batch, queries, queryDim));
      NDArray context = manager.randomNormal(new Shape(batch, keys, contextDim));
      NDArray actual = attn.forward(x, context);
      assertThat(actual.getShape()).isEqualTo(new Shape(batch, queries, queryDim));

      // The same attention, one batch element and one head at a time, with plain loops.
      var p = attn.namedParameters();
      float[] q = x.matMul(p.get("to_q.weight").array().transpose()).toFloatArray();
      float[] k = context.matMul(p.get("to_k.weight").array().transpose()).toFloatArray();
      float[] v = context.matMul(p.get("to_v.weight").array().transpose()).toFloatArray();
      long inner = heads * dimHead;
      float[] merged = new float[(int) (batch * queries * inner)];
      for (int b = 0; b < batch; b++) {
        for (int h = 0; h < heads; h++) {
          for (int i = 0; i < queries; i++) {
            double[] scores = new double[(int) keys];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < keys; j++) {
              double s = 0;
              for (int d = 0; d < dimHead; d++) {
                s +=
                    q[(int) ((b * queries + i) * inner + h * dimHead + d)]
                        * k[(int) ((b * keys + j) * inner + h * dimHead + d)];
              }
              scores[j] = s / Math.sqrt(dimHead);
              max = Math.max(max, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j < keys; j++) {
              scores[j] = Math.exp(scores[j] - max);
              sum += scores[j];
            }
            for (int d = 0; d < dimHead; d++) {
              double o = 0;
              for (int j = 0; j < keys; j++) {
                o += scores[j] / sum * v[(int) ((b * keys + j) * inner + h * dimHead + d)];
              }
              merged[(int) ((b * queries + i) * inner + h * dimHead + d)] = (float) o;
            }
          }
        }
      }
      float[] expected =
          manager
              .create(merged, new Shape(batch, queries, inner))
              .matMul(p.get("to_out.0.weight").array().transpose())
              .add(p.get("to_out.0.bias").array())
              .toFloatArray();
      float[] got = actual.toFloatArray();
      for (int i = 0; i < expected.length; i++) {
        assertThat(got[i]).isCloseTo(expected[i], within(1e-5f));
      }
    }
  }

  @Test
  void gradientReachesTheCrossAttentionProjections() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Attention attn = Attention.builder(8).crossAttentionDim(6L).heads(2).dimHead(4).build();
      attn.initialize(manager, 3);
      NDArray toK = attn.namedParameters().get("to_k.weight").array();
      toK.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray out =
            attn.forward(
                manager.randomNormal(new Shape(1, 4, 8)), manager.randomNormal(new Shape(1, 3, 6)));
        collector.backward(out.square().sum());
      }
      assertThat(toK.getGradient().abs().sum().getFloat()).isGreaterThan(0f);
    }
  }

  @Test
  void spatialFormWithGroupNormAndResidualKeepsTheInputShape() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Attention attn =
          Attention.builder(8)
              .heads(1)
              .dimHead(8)
              .bias(true)
              .normNumGroups(2)
              .eps(1e-6f)
              .residualConnection(true)
              .build();
      assertThat(attn.namedParameters()).containsKeys("group_norm.weight", "to_q.bias");
      attn.initialize(manager, 5);
      NDArray x = manager.randomNormal(new Shape(2, 8, 3, 4));
      NDArray y = attn.forward(x);
      assertThat(y.getShape()).isEqualTo(x.getShape());
      // Zero output projection leaves only the residual.
      attn.namedParameters().get("to_out.0.weight").set(manager.zeros(new Shape(8, 8)));
      assertThat(attn.forward(x).sub(x).abs().max().getFloat()).isEqualTo(0f);
    }
  }

  @Test
  void blockwiseCpuPathEqualsTheOneShotPathWithGradients() {
    // The unfused path (--no-fused) only.
    // 2 heads x 1500 x 1500 scores exceed one CPU block, so heads and query bands are split;
    // an all-zero mask takes the one-shot path over the same numbers.
    long length = 1500;
    assertThat(2 * length * length).isGreaterThan(Attention.CPU_SCORE_BLOCK);
    System.setProperty(FusedOps.ENABLED_PROPERTY, "false");
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray q = manager.randomNormal(new Shape(1, length, 8));
      NDArray k = manager.randomNormal(new Shape(1, length, 8));
      NDArray v = manager.randomNormal(new Shape(1, length, 8));
      NDArray zeros = manager.zeros(new Shape(1, 1, length, length));
      NDArray[] outputs = new NDArray[2];
      NDArray[] gradients = new NDArray[2];
      for (int pass = 0; pass < 2; pass++) {
        NDArray qq = q.duplicate();
        qq.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          outputs[pass] =
              Attention.scaledDotProductAttention(
                  qq, k, v, 2, 0.5f, pass == 0 ? null : zeros, false);
          collector.backward(outputs[pass].mul(v).sum());
        }
        gradients[pass] = qq.getGradient().duplicate();
      }
      assertThat(outputs[0].sub(outputs[1]).abs().max().getFloat()).isLessThan(1e-6f);
      assertThat(gradients[0].sub(gradients[1]).abs().max().getFloat()).isLessThan(1e-6f);
      assertThat(gradients[0].abs().sum().getFloat()).isGreaterThan(0f);
    } finally {
      System.clearProperty(FusedOps.ENABLED_PROPERTY);
    }
  }
}
