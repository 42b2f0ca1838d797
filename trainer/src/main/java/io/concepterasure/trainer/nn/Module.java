package io.concepterasure.trainer.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The counterpart of {@code torch.nn.Module}: a tree of named children and named parameters, so
 * that the dotted names of {@link #namedParameters()} equal the keys of the diffusers or
 * transformers checkpoint and weights load by name.
 *
 * <p>Forward passes are plain Java methods on each subclass, written with DJL {@code NDArray}
 * operations, because their signatures differ per module (as in diffusers).
 */
public abstract class Module {
  private final Map<String, Parameter> parameters = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private boolean gradientCheckpointing;

  protected final Parameter parameter(String name, Parameter parameter) {
    if (parameters.putIfAbsent(name, parameter) != null) {
      throw new IllegalStateException("duplicate parameter " + name);
    }
    return parameter;
  }

  protected final <M extends Module> M child(String name, M module) {
    if (children.putIfAbsent(name, module) != null) {
      throw new IllegalStateException("duplicate child " + name);
    }
    return module;
  }

  public final Map<String, Module> children() {
    return Collections.unmodifiableMap(children);
  }

  /**
   * Every parameter of this module and its descendants, by checkpoint name, in registration order.
   */
  public final Map<String, Parameter> namedParameters() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    collect("", out);
    return out;
  }

  /**
   * Gives every parameter a fresh value from its {@link Init}, in registration order from one
   * generator seeded with {@code seed}, so the same seed always builds the same model.
   */
  public final void initialize(NDManager manager, long seed) {
    Random random = new Random(seed);
    namedParameters().values().forEach(p -> p.initialize(manager, random));
  }

  /**
   * diffusers' {@code enable_gradient_checkpointing} / {@code disable_gradient_checkpointing}, on
   * this module and all its descendants: the modules that support it (transformer blocks and
   * resnets, as in diffusers) then run through {@link #checkpointed} while gradients are recorded.
   */
  public final void setGradientCheckpointing(boolean enabled) {
    gradientCheckpointing = enabled;
    children.values().forEach(c -> c.setGradientCheckpointing(enabled));
  }

  public final boolean isGradientCheckpointing() {
    return gradientCheckpointing;
  }

  /**
   * {@code body(inputs)}, under gradient checkpointing ({@link FusedOps#checkpoint}) when it is on
   * for this module, else directly. {@code body} must return a new array and be deterministic; a
   * {@code null} input (an optional one left out) runs it directly.
   */
  protected final NDArray checkpointed(Function<NDList, NDArray> body, NDArray... inputs) {
    if (!gradientCheckpointing || Arrays.stream(inputs).anyMatch(Objects::isNull)) {
      return body.apply(new NDList(inputs));
    }
    List<NDArray> trainable =
        namedParameters().values().stream()
            .map(Parameter::array)
            .filter(NDArray::hasGradient)
            .toList();
    return FusedOps.checkpoint(in -> new NDList(body.apply(in)), new NDList(inputs), trainable)
        .singletonOrThrow();
  }

  /**
   * Runs {@code body} in its own {@link NDScope} and hands only its result to the caller's scope,
   * so its intermediate arrays are freed when it returns, as torch frees a value nobody holds,
   * rather than at the end of the whole step. Closing an array only drops our handle: a tensor
   * autograd saved for the backward pass stays alive. {@code body} must return a new array (not one
   * of its inputs), since the caller's scope will close it.
   */
  protected static NDArray freeingIntermediates(Supplier<NDArray> body) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      out = body.get();
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /**
   * {@code f(x)}, closing {@code x} once the result exists (unless {@code f} returned it): a chain
   * of layers then holds one intermediate at a time, as torch frees a value nobody holds. Closing
   * drops only our handle; a tensor autograd saved for the backward pass stays alive. {@code x}
   * must be an intermediate of the caller's own, never its input.
   */
  protected static NDArray thenClose(NDArray x, UnaryOperator<NDArray> f) {
    NDArray y = f.apply(x);
    if (y != x) {
      x.close();
    }
    return y;
  }

  private void collect(String prefix, Map<String, Parameter> out) {
    parameters.forEach((name, p) -> out.put(prefix + name, p));
    children.forEach((name, c) -> c.collect(prefix + name + ".", out));
  }
}
