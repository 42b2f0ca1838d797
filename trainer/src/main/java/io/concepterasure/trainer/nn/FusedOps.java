package io.concepterasure.trainer.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * libtorch's fused {@code scaled_dot_product_attention}, {@code group_norm} and {@code silu}, which
 * DJL 0.36 does not expose, and {@code aten::linear}, which it reaches only by a slower route,
 * called on DJL's arrays through the project's own JNI library ({@code trainer/src/main/native},
 * built by the Maven build into the jar).
 *
 * <p>Why: spelled as DJL operators, attention keeps its {@code [batch * heads, length, length]}
 * scores and probabilities for the backward pass (about 1 GiB per 64x64 self-attention layer of SD
 * 1.5 at batch 2); the fused kernel keeps only its output and log-sum-exp. GroupNorm and SiLU as
 * one operator each keep one input instead of several intermediates. The library calls the same
 * libtorch DJL has loaded, through its dispatcher, so the results join autograd like any DJL op.
 *
 * <p>On by default. {@code -Dconcepterasure.fused=false} (the CLI's {@code --no-fused}) runs the
 * unfused DJL operators instead: for debugging only, as it needs several times the memory. Where
 * the library comes from: the file named by {@code -Dconcepterasure.fused.library} or {@code
 * CONCEPTERASURE_FUSED_LIBRARY} if set (an image that cannot write to its temporary folder puts it
 * there), else {@value #RESOURCE} in the jar, copied to a temporary file. A missing library is an
 * error, never a silent fallback.
 */
public final class FusedOps {
  /** {@code false} switches the fused operators off (debugging only). */
  public static final String ENABLED_PROPERTY = "concepterasure.fused";

  /** A path to {@code libconcepterasure_ops.so}, used instead of the jar's copy. */
  public static final String LIBRARY_PROPERTY = "concepterasure.fused.library";

  public static final String LIBRARY_ENV = "CONCEPTERASURE_FUSED_LIBRARY";

  /** Where the Maven build puts the library, in the classes and so in the jar. */
  public static final String RESOURCE = "/native/linux-x86_64/libconcepterasure_ops.so";

  /** libtorch's {@code sdp::SDPBackend::flash_attention}: the fused CPU kernel. */
  static final long FLASH_ATTENTION = 1;

  private static volatile boolean loaded;

  private FusedOps() {}

  /** Whether layers use the fused operators (read on every call, so tests can compare both). */
  public static boolean enabled() {
    return !"false".equalsIgnoreCase(System.getProperty(ENABLED_PROPERTY));
  }

  /**
   * {@code softmax(q k^T * scale + mask) v} without materialising the scores.
   *
   * @param q {@code [batch, heads, queryLength, dimHead]}; 4-D, since libtorch silently takes its
   *     unfused path for 3-D input
   * @param k {@code [batch, heads, keyLength, dimHead]}
   * @param v {@code [batch, heads, keyLength, dimHead]}
   * @param additiveMask {@code null}, or added to the scores, broadcastable to {@code [batch,
   *     heads, queryLength, keyLength]}
   */
  public static NDArray scaledDotProductAttention(
      NDArray q, NDArray k, NDArray v, NDArray additiveMask, float scale) {
    checkAttentionShapes(q, k, v);
    ensureLoaded();
    return wrap(
        q,
        scaledDotProductAttention(
            handle(q), handle(k), handle(v), optionalHandle(additiveMask), scale));
  }

  /** The backend libtorch picks for these inputs ({@link #FLASH_ATTENTION} = fused). */
  static long attentionBackend(NDArray q, NDArray k, NDArray v, float scale) {
    checkAttentionShapes(q, k, v);
    ensureLoaded();
    return fusedBackend(handle(q), handle(k), handle(v), 0L, scale);
  }

  /**
   * {@code torch.nn.functional.group_norm}.
   *
   * @param x {@code [batch, channels, *]}
   * @param weight {@code [channels]} or {@code null}
   * @param bias {@code [channels]} or {@code null}
   */
  public static NDArray groupNorm(
      NDArray x, int numGroups, NDArray weight, NDArray bias, float eps) {
    ensureLoaded();
    return wrap(
        x, groupNorm(handle(x), numGroups, optionalHandle(weight), optionalHandle(bias), eps));
  }

  /**
   * {@code aten::linear}, as {@code torch.nn.functional.linear} calls it: for a contiguous 3-D
   * input with a bias, one {@code addmm} over the flattened rows. DJL's {@code Linear.linear} goes
   * through libtorch's C++ API instead, which runs {@code matmul} and a separate bias add for every
   * input that is not 2-D (SD 1.5, one inference step: 1.7 s of 5.4 s in linear layers).
   *
   * @param x {@code [*, in]}
   * @param weight {@code [out, in]}
   * @param bias {@code [out]} or {@code null}
   */
  public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    ensureLoaded();
    return wrap(x, linear(handle(x), handle(weight), optionalHandle(bias)));
  }

  /** {@code x * sigmoid(x)} as one operator. */
  public static NDArray silu(NDArray x) {
    ensureLoaded();
    return wrap(x, silu(handle(x)));
  }

  /**
   * {@code x.contiguous()}: {@code x} in row-major order, copied if it is a permuted view. A
   * convolution given a channels-last view runs channels-last and hands that layout on to every
   * layer after it, each copying its weights (and, in backward, its gradients) to match; diffusers
   * calls {@code .contiguous()} before such convolutions for this reason.
   */
  public static NDArray contiguous(NDArray x) {
    ensureLoaded();
    return wrap(x, contiguous(handle(x)));
  }

  /**
   * One parameter's Adam update in place, as {@code torch.optim.Adam}'s per-tensor form computes it
   * ({@code lerp_}, {@code mul_().addcmul_}, {@code addcdiv_}; no weight decay, no AMSGrad). Reads
   * {@code param}'s gradient (zeros when it has none) without recording a graph.
   *
   * @param stepSize {@code lr / (1 - beta1^t)}
   * @param correction2Sqrt {@code sqrt(1 - beta2^t)}
   */
  public static void adamStep(
      NDArray param,
      NDArray mean,
      NDArray variance,
      double beta1,
      double beta2,
      double stepSize,
      double correction2Sqrt,
      double epsilon) {
    ensureLoaded();
    adamStep(
        handle(param),
        handle(mean),
        handle(variance),
        beta1,
        beta2,
        stepSize,
        correction2Sqrt,
        epsilon);
  }

  /** A block of layers: its inputs to its outputs. */
  @FunctionalInterface
  public interface Block {
    NDList apply(NDList inputs);
  }

  /**
   * {@code block(inputs)} under gradient checkpointing ({@code torch.utils.checkpoint}'s reentrant
   * form, as diffusers' {@code enable_gradient_checkpointing} uses): the forward pass keeps only
   * the block's inputs, and the backward pass runs the block again to get its intermediates. Saves
   * the memory of everything the block computes inside, for one more forward of it per step.
   *
   * <p>Runs {@code block} directly when nothing records gradients (grad mode off, as in inference,
   * or no input and no parameter that requires one, as for the frozen UNet). The block must be
   * deterministic (no dropout while training), since it runs twice and both runs must agree.
   *
   * @param trainable the block's parameters that require gradients: passed to autograd only so that
   *     the outputs require gradients when no input does; their gradients accumulate as usual
   */
  public static NDList checkpoint(Block block, NDList inputs, List<NDArray> trainable) {
    ensureLoaded();
    if (!gradEnabled()
        || (trainable.isEmpty() && inputs.stream().noneMatch(NDArray::hasGradient))) {
      return block.apply(inputs);
    }
    PtNDManager manager = (PtNDManager) inputs.get(0).getManager();
    long[] outputs = checkpoint(new Recompute(manager, block), handles(inputs), handles(trainable));
    NDList result = new NDList(outputs.length);
    for (long output : outputs) {
      result.add(new PtNDArray(manager, output));
    }
    return result;
  }

  /**
   * What the native checkpoint calls, in the forward pass (grad off) and again in the backward
   * (grad on): wraps the tensors it is given, runs the block in its own scope and hands back new
   * handles on the outputs; everything the block made is closed here, the outputs included, since
   * autograd and the native side hold their own references.
   */
  static final class Recompute {
    private final PtNDManager manager;
    private final Block block;

    Recompute(PtNDManager manager, Block block) {
      this.manager = manager;
      this.block = block;
    }

    /** Called from C++ only; it owns the returned handles, and gives up {@code inputs}. */
    long[] call(long[] inputs) {
      try (NDScope scope = new NDScope()) {
        NDList in = new NDList(inputs.length);
        for (long input : inputs) {
          in.add(new PtNDArray(manager, input));
        }
        NDList out = block.apply(in);
        long[] shared = new long[out.size()];
        for (int i = 0; i < shared.length; i++) {
          shared[i] = share(handle(out.get(i)));
        }
        return shared;
      }
    }
  }

  /**
   * Drops {@code x}'s gradient, as {@code zero_grad(set_to_none=True)} (torch's default) does: its
   * memory is free until the next backward pass allocates it again. Overwriting it with zeros, all
   * DJL offers, keeps every trainable parameter's gradient allocated through the next forward pass
   * (SD 1.5, nonCrossAttention: 3.3 GB held beside the activations).
   */
  public static void clearGradient(NDArray x) {
    ensureLoaded();
    clearGradient(handle(x));
  }

  private static long[] handles(List<NDArray> arrays) {
    long[] out = new long[arrays.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = handle(arrays.get(i));
    }
    return out;
  }

  private static void checkAttentionShapes(NDArray q, NDArray k, NDArray v) {
    if (q.getShape().dimension() != 4
        || k.getShape().dimension() != 4
        || !k.getShape().equals(v.getShape())
        || q.getShape().get(0) != k.getShape().get(0)
        || q.getShape().get(1) != k.getShape().get(1)
        || q.getShape().get(3) != k.getShape().get(3)) {
      throw new IllegalArgumentException(
          "scaled_dot_product_attention expects q [batch, heads, Lq, d] and k, v [batch, heads, Lk,"
              + " d], got q "
              + q.getShape()
              + ", k "
              + k.getShape()
              + ", v "
              + v.getShape());
    }
  }

  private static long handle(NDArray x) {
    return ((PtNDArray) x).getHandle();
  }

  private static long optionalHandle(NDArray x) {
    return x == null ? 0L : handle(x);
  }

  private static NDArray wrap(NDArray like, long handle) {
    return new PtNDArray((PtNDManager) like.getManager(), handle);
  }

  /** Loads the library once; libtorch must be loaded first, so the loader binds to DJL's copy. */
  static void ensureLoaded() {
    if (loaded) {
      return;
    }
    synchronized (FusedOps.class) {
      if (loaded) {
        return;
      }
      Engine.getEngine("PyTorch");
      System.load(libraryPath().toString());
      loaded = true;
    }
  }

  private static Path libraryPath() {
    String configured = System.getProperty(LIBRARY_PROPERTY, System.getenv(LIBRARY_ENV));
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      if (!Files.isRegularFile(path)) {
        throw new IllegalStateException(
            "fused operators: " + LIBRARY_PROPERTY + " names " + path + ", which does not exist");
      }
      return path.toAbsolutePath();
    }
    try (InputStream in = FusedOps.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "fused operators: "
                + RESOURCE
                + " is not in the jar (build the trainer with Maven, which compiles it) and "
                + LIBRARY_PROPERTY
                + " is not set; --no-fused runs without it, for debugging only");
      }
      Path file = Files.createTempFile("libconcepterasure_ops", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new IllegalStateException(
          "fused operators: cannot copy the library to the temporary folder ("
              + e.getMessage()
              + "); set "
              + LIBRARY_PROPERTY
              + " to an extracted copy",
          e);
    }
  }

  private static native long scaledDotProductAttention(
      long q, long k, long v, long mask, double scale);

  private static native long fusedBackend(long q, long k, long v, long mask, double scale);

  private static native long groupNorm(long x, long numGroups, long weight, long bias, double eps);

  private static native long linear(long x, long weight, long bias);

  private static native long silu(long x);

  private static native long contiguous(long x);

  private static native void adamStep(
      long param,
      long mean,
      long variance,
      double beta1,
      double beta2,
      double stepSize,
      double correction2Sqrt,
      double epsilon);

  private static native boolean gradEnabled();

  private static native void clearGradient(long x);

  private static native long share(long x);

  private static native long[] checkpoint(Object body, long[] inputs, long[] trainable);
}
