package io.concepterasure.trainer.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.training.GradientCollector;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fused operators against the unfused DJL path they replace: outputs and gradients equal within
 * float rounding. Tolerance 1e-5 relative to the larger of 1 and the compared tensor's largest
 * entry: the fused kernels sum in another order (the probe measured at most 2.4e-7 on outputs and
 * 1.1e-6 on gradients at SD's shapes), and a parameter's gradient sums over the batch and every
 * position, so it reaches tens and its rounding grows with it (an absolute 1e-5 failed once at
 * 1.05e-5 on a GroupNorm weight gradient of that size); a wrong formula differs by order 1e-1.
 * Inputs come from a fixed seed, so a failure repeats.
 */
class FusedOpsTest {
  private static final float TOLERANCE = 1e-5f;

  @BeforeEach
  void seed() {
    Engine.getInstance().setRandomSeed(20261203);
  }

  /** Runs {@code body} on fresh copies of {@code inputs} (requiring gradients), fused or not. */
  private static NDList outputAndGradients(
      boolean fused, NDList inputs, Function<NDList, NDArray> body) {
    String before = System.getProperty(FusedOps.ENABLED_PROPERTY);
    System.setProperty(FusedOps.ENABLED_PROPERTY, Boolean.toString(fused));
    try {
      NDList copies = new NDList();
      for (NDArray x : inputs) {
        NDArray c = x.duplicate();
        c.setRequiresGradient(true);
        copies.add(c);
      }
      NDArray out;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        out = body.apply(copies);
        // A loss that weights every output element differently, so each gradient entry counts.
        NDArray weights =
            out.getManager()
                .arange((int) out.size())
                .reshape(out.getShape())
                .toType(out.getDataType(), false);
        collector.backward(out.mul(Tensors.div(weights, (float) out.size())).sum());
      }
      NDList result = new NDList(out.duplicate());
      for (NDArray c : copies) {
        result.add(c.getGradient().duplicate());
      }
      return result;
    } finally {
      if (before == null) {
        System.clearProperty(FusedOps.ENABLED_PROPERTY);
      } else {
        System.setProperty(FusedOps.ENABLED_PROPERTY, before);
      }
    }
  }

  private static void assertSameOutputAndGradients(NDList inputs, Function<NDList, NDArray> body) {
    NDList fused = outputAndGradients(true, inputs, body);
    NDList unfused = outputAndGradients(false, inputs, body);
    for (int i = 0; i < fused.size(); i++) {
      String what = i == 0 ? "output" : "gradient of input " + (i - 1);
      assertThat(fused.get(i).getShape()).as(what).isEqualTo(unfused.get(i).getShape());
      float scale = Math.max(1f, unfused.get(i).abs().max().getFloat());
      assertThat(fused.get(i).sub(unfused.get(i)).abs().max().getFloat())
          .as(what + " (largest entry " + scale + ")")
          .isLessThan(TOLERANCE * scale);
      assertThat(fused.get(i).abs().max().getFloat()).as(what + " is not zero").isGreaterThan(0f);
    }
  }

  @Test
  void selfAttentionEqualsTheUnfusedPathWithGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // batch 2, 300 tokens, 5 heads of 40 (SD 1.5's head width); long enough for several blocks.
      Shape shape = new Shape(2, 300, 200);
      NDList inputs =
          new NDList(
              manager.randomNormal(shape),
              manager.randomNormal(shape),
              manager.randomNormal(shape));
      assertSameOutputAndGradients(
          inputs,
          x ->
              Attention.scaledDotProductAttention(
                  x.get(0), x.get(1), x.get(2), 5, 0.158f, null, false));
    }
  }

  @Test
  void crossAttentionWithAMaskEqualsTheUnfusedPathWithGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray q = manager.randomNormal(new Shape(2, 64, 32));
      NDArray k = manager.randomNormal(new Shape(2, 77, 32));
      NDArray v = manager.randomNormal(new Shape(2, 77, 32));
      // A causal-like mask of -1e9 above the diagonal, broadcast over batch and heads.
      float[] masked = new float[64 * 77];
      for (int i = 0; i < 64; i++) {
        for (int j = i + 1; j < 77; j++) {
          masked[i * 77 + j] = -1e9f;
        }
      }
      NDArray mask = Tensors.create(manager, masked, new Shape(1, 1, 64, 77));
      assertSameOutputAndGradients(
          new NDList(q, k, v),
          x ->
              Attention.scaledDotProductAttention(
                  x.get(0), x.get(1), x.get(2), 4, 0.35f, mask, false));
    }
  }

  @Test
  void libtorchChoosesItsFusedKernelFor4dInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray q = manager.randomNormal(new Shape(2, 8, 4096, 40));
      assertThat(FusedOps.attentionBackend(q, q, q, 0.158f)).isEqualTo(FusedOps.FLASH_ATTENTION);
    }
  }

  @Test
  void groupNormEqualsTheUnfusedPathWithGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      GroupNorm norm = new GroupNorm(4, 16, 1e-5f);
      NDArray x = manager.randomNormal(new Shape(2, 16, 6, 5)).add(Tensors.scalar(manager, 3f));
      NDArray weight = manager.randomNormal(new Shape(16));
      NDArray bias = manager.randomNormal(new Shape(16));
      assertSameOutputAndGradients(
          new NDList(x, weight, bias),
          in -> {
            norm.namedParameters().get("weight").set(in.get(1));
            norm.namedParameters().get("bias").set(in.get(2));
            return norm.forward(in.get(0));
          });
      // 3-D input, as the VAE's attention normalises [batch, channels, tokens].
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(2, 16, 30)), weight, bias),
          in -> {
            norm.namedParameters().get("weight").set(in.get(1));
            norm.namedParameters().get("bias").set(in.get(2));
            return norm.forward(in.get(0));
          });
    }
  }

  @Test
  void linearEqualsTheUnfusedPathWithGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Linear biased = new Linear(24, 40);
      Linear unbiased = new Linear(24, 40, false);
      NDArray weight = manager.randomNormal(new Shape(40, 24));
      NDArray bias = manager.randomNormal(new Shape(40));
      Function<NDList, NDArray> withBias =
          in -> {
            biased.namedParameters().get("weight").set(in.get(1));
            biased.namedParameters().get("bias").set(in.get(2));
            return biased.forward(in.get(0));
          };
      // Contiguous 3-D (aten::linear's addmm), 2-D, 4-D, and a transposed (non-contiguous) 3-D.
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(2, 50, 24)), weight, bias), withBias);
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(7, 24)), weight, bias), withBias);
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(2, 3, 5, 24)), weight, bias), withBias);
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(2, 24, 50)), weight, bias),
          in -> withBias.apply(new NDList(in.get(0).transpose(0, 2, 1), in.get(1), in.get(2))));
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(2, 50, 24)), weight),
          in -> {
            unbiased.namedParameters().get("weight").set(in.get(1));
            return unbiased.forward(in.get(0));
          });
    }
  }

  @Test
  void siluEqualsTheUnfusedPathWithGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      assertSameOutputAndGradients(
          new NDList(manager.randomNormal(new Shape(3, 7, 11)).mul(Tensors.scalar(manager, 4f))),
          x -> Activations.silu(x.get(0)));
    }
  }

  /** libtorch's is_contiguous, which DJL 0.36 has but keeps package-private. */
  private static boolean isContiguous(NDArray x) throws ReflectiveOperationException {
    Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
    Field lib = library.getDeclaredField("LIB");
    lib.setAccessible(true);
    Method method = library.getDeclaredMethod("torchIsContiguous", long.class);
    method.setAccessible(true);
    return (boolean) method.invoke(lib.get(null), ((PtNDArray) x).getHandle());
  }

  @Test
  void contiguousCopiesAChannelsLastViewToRowMajorWithGradients() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      // Transformer2DModel's tokens [batch, h*w, channels] back to a feature map: a permuted view.
      NDArray tokens = manager.randomNormal(new Shape(2, 15, 4));
      NDArray view = tokens.reshape(2, 3, 5, 4).transpose(0, 3, 1, 2);
      assertThat(isContiguous(view)).isFalse();
      NDArray copy = FusedOps.contiguous(view);
      assertThat(isContiguous(copy)).isTrue();
      assertThat(copy.getShape()).isEqualTo(new Shape(2, 4, 3, 5));
      assertThat(copy.toFloatArray()).containsExactly(view.toFloatArray());
      assertThat(isContiguous(FusedOps.contiguous(copy))).isTrue();
      assertSameOutputAndGradients(
          new NDList(tokens),
          in -> {
            NDArray map = in.get(0).reshape(2, 3, 5, 4).transpose(0, 3, 1, 2);
            return FusedOps.enabled() ? FusedOps.contiguous(map) : map;
          });
    }
  }

  @Test
  void aLibtorchErrorBecomesAJavaExceptionAndTheJvmLivesOn() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.randomNormal(new Shape(2, 10, 4));
      assertThatThrownBy(() -> FusedOps.groupNorm(x, 3, null, null, 1e-5f))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("group_norm");
      assertThatThrownBy(
              () ->
                  FusedOps.scaledDotProductAttention(
                      x.reshape(2, 1, 10, 4),
                      x.reshape(2, 1, 4, 10),
                      x.reshape(2, 1, 4, 10),
                      null,
                      1f))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("scaled_dot_product_attention expects");
      assertThat(FusedOps.silu(x).getShape()).isEqualTo(x.getShape());
      assertThatThrownBy(() -> FusedOps.linear(x, manager.ones(new Shape(3, 5)), null))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("linear");
    }
  }

  /** {@code tanh(x w) * w} with {@code w} trainable and {@code x} not: the first-block case. */
  private static FusedOps.Block countingBlock(NDArray w, AtomicInteger calls, int failOnCall) {
    return in -> {
      if (calls.incrementAndGet() == failOnCall) {
        throw new IllegalStateException("block failed on purpose");
      }
      return new NDList(in.get(0).matMul(w).tanh().matMul(w));
    };
  }

  @Test
  void checkpointRunsTheBlockAgainInTheBackwardPassWithTheSameGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.randomNormal(new Shape(3, 3));
      NDArray x = manager.randomNormal(new Shape(2, 3));
      float[][] results = new float[2][];
      for (int checkpointed = 0; checkpointed < 2; checkpointed++) {
        NDArray weight = w.duplicate();
        weight.setRequiresGradient(true);
        AtomicInteger calls = new AtomicInteger();
        FusedOps.Block block = countingBlock(weight, calls, -1);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          NDArray out =
              checkpointed == 1
                  ? FusedOps.checkpoint(block, new NDList(x), List.of(weight)).singletonOrThrow()
                  : block.apply(new NDList(x)).singletonOrThrow();
          collector.backward(out.square().sum());
        }
        // Checkpointed: once without grad in the forward pass, once more in the backward.
        assertThat(calls.get()).isEqualTo(checkpointed == 1 ? 2 : 1);
        results[checkpointed] = weight.getGradient().toFloatArray();
      }
      assertThat(results[1])
          .containsExactly(results[0], org.assertj.core.data.Offset.offset(1e-6f));
      assertThat(results[0]).isNotEqualTo(new float[9]);
    }
  }

  @Test
  void checkpointRunsTheBlockOnceWhenNothingRecordsGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.randomNormal(new Shape(3, 3));
      NDArray x = manager.randomNormal(new Shape(2, 3));
      AtomicInteger calls = new AtomicInteger();
      NDArray out =
          FusedOps.checkpoint(countingBlock(w, calls, -1), new NDList(x), List.of())
              .singletonOrThrow();
      assertThat(calls.get()).isEqualTo(1);
      assertThat(out.getShape()).isEqualTo(new Shape(2, 3));
    }
  }

  @Test
  void aFailureInTheRecomputationBecomesAJavaExceptionAndTheJvmLivesOn() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.randomNormal(new Shape(3, 3));
      w.setRequiresGradient(true);
      NDArray x = manager.randomNormal(new Shape(2, 3));
      AtomicInteger calls = new AtomicInteger();
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray out =
            FusedOps.checkpoint(countingBlock(w, calls, 2), new NDList(x), List.of(w))
                .singletonOrThrow();
        assertThatThrownBy(() -> collector.backward(out.sum()))
            .isInstanceOf(EngineException.class)
            .hasMessageContaining("block failed on purpose");
      }
      AtomicInteger again = new AtomicInteger();
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        assertThatThrownBy(
                () -> FusedOps.checkpoint(countingBlock(w, again, 1), new NDList(x), List.of(w)))
            .isInstanceOf(EngineException.class)
            .hasMessageContaining("gradient checkpoint")
            .hasMessageContaining("block failed on purpose");
      }
      assertThat(FusedOps.silu(x).getShape()).isEqualTo(x.getShape());
    }
  }
}
