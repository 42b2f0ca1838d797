package io.concepterasure.trainer.erasure;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.optim.AdamOptimizer;
import io.concepterasure.trainer.optim.IterationRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The erasure loop of docs/method.md: per iteration the next (concept, alternative) pair in turn,
 * an x_t from φ's own trajectory, the objective's loss, one Adam step on the trainable set.
 *
 * <p>θ is a separate, frozen network loaded from the same weights; φ's parameters outside the
 * trainable set never require gradients, so they cannot move.
 */
public final class ErasureTrainer implements AutoCloseable {

  /**
   * @param iterations total iterations of the run
   * @param seed the request's seed; iteration i draws from {@link IterationRandom}(seed, i)
   * @param latentShape the shape of x_T, [1, C, H, W] from the UNet's config
   */
  public record LoopParameters(int iterations, long seed, float learningRate, Shape latentShape) {
    public LoopParameters {
      if (iterations <= 0) {
        throw new IllegalArgumentException("iterations must be > 0 but was " + iterations);
      }
    }
  }

  /** Told after each iteration; may save state (a checkpoint) or stop the run by throwing. */
  @FunctionalInterface
  public interface IterationListener {
    void afterIteration(int iteration, Map<String, Double> losses, ErasureTrainer trainer);
  }

  private final TrainableNoisePredictor phi;
  private final NoisePredictor theta;
  private final ErasureObjective objective;
  private final XtSampler sampler;
  private final List<ConceptEmbeddings> concepts;
  private final LoopParameters loop;
  private final Preservation preservation;
  private final Map<String, Parameter> trainable;
  private final AdamOptimizer optimizer;
  private final NDManager manager;
  private int nextIteration;
  private Map<String, Double> lastLosses = Map.of();

  public ErasureTrainer(
      TrainableNoisePredictor phi,
      NoisePredictor theta,
      ErasureObjective objective,
      TrainableParameterSet parameterSet,
      XtSampler sampler,
      List<ConceptEmbeddings> concepts,
      LoopParameters loop) {
    this(phi, theta, objective, parameterSet, sampler, concepts, loop, Preservation.none());
  }

  /**
   * @param preservation L_keep, added to the objective's loss whatever the method
   */
  public ErasureTrainer(
      TrainableNoisePredictor phi,
      NoisePredictor theta,
      ErasureObjective objective,
      TrainableParameterSet parameterSet,
      XtSampler sampler,
      List<ConceptEmbeddings> concepts,
      LoopParameters loop,
      Preservation preservation) {
    if (concepts.isEmpty()) {
      throw new IllegalArgumentException("at least one concept to erase is needed");
    }
    this.phi = phi;
    this.theta = theta.withoutGradient();
    this.objective = objective;
    this.sampler = sampler;
    this.concepts = List.copyOf(concepts);
    this.loop = loop;
    this.preservation = preservation;
    Map<String, Parameter> all = phi.namedParameters();
    this.trainable = parameterSet.select(all);
    all.forEach((name, p) -> p.array().setRequiresGradient(trainable.containsKey(name)));
    this.optimizer = new AdamOptimizer(trainable, loop.learningRate());
    this.manager = trainable.values().iterator().next().array().getManager().newSubManager();
  }

  public Map<String, Parameter> trainableParameters() {
    return trainable;
  }

  public int nextIteration() {
    return nextIteration;
  }

  public Map<String, Double> lastLosses() {
    return lastLosses;
  }

  /** Runs the remaining iterations (all, unless {@link #restore} moved the start). */
  public Map<String, Double> train(IterationListener listener) {
    while (nextIteration < loop.iterations()) {
      int iteration = nextIteration;
      Map<String, Double> losses = step(iteration);
      lastLosses = losses;
      nextIteration = iteration + 1;
      listener.afterIteration(iteration, losses, this);
    }
    return lastLosses;
  }

  private Map<String, Double> step(int iteration) {
    ConceptEmbeddings concept = concepts.get(iteration % concepts.size());
    try (NDScope scope = new NDScope()) {
      IterationRandom random = new IterationRandom(loop.seed(), iteration);
      int k = random.nextInt(sampler.ddimSteps());
      NDArray xT = random.normal(manager, loop.latentShape());
      XtSampler.Xt xt =
          sampler.sample(phi, xT, k, objective.trajectoryCondition(concept), concept.empty());
      NDArray t = NoisePredictor.timestep(manager, xt.timestep(), xt.latents().getShape().get(0));
      // Drawn after the concept's x_t, so that a run without L_keep draws what it always drew.
      List<Retained> retained = preservation.active() ? retained(random, concept) : List.of();
      Map<String, Double> losses;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ErasureLoss loss = objective.loss(phi, theta, xt.latents(), t, concept);
        NDArray total = loss.total();
        NDArray keep = null;
        for (Retained r : retained) {
          NDArray term = Preservation.keep(phi, theta, r.xt(), r.timestep(), r.condition());
          keep = keep == null ? term : keep.add(term);
        }
        if (keep != null) {
          total = total.add(Tensors.mul(keep, preservation.weight()));
        }
        losses = new LinkedHashMap<>(new ErasureLoss(total, loss.terms()).values());
        if (keep != null) {
          losses.put("keep", (double) keep.getFloat());
        }
        if (!Double.isFinite(losses.get("loss"))) {
          throw new NonFiniteLossException(iteration, losses);
        }
        collector.backward(total);
      }
      optimizer.step();
      return losses;
    }
  }

  /** A retain prompt's x_t^r, from its own trajectory under φ. */
  private record Retained(NDArray xt, NDArray timestep, NDArray condition) {}

  private List<Retained> retained(IterationRandom random, ConceptEmbeddings concept) {
    List<Retained> out = new ArrayList<>();
    for (int d = 0; d < preservation.draws(); d++) {
      NDArray condition =
          preservation.embeddings().get(random.nextInt(preservation.embeddings().size()));
      int k = random.nextInt(sampler.ddimSteps());
      NDArray xT = random.normal(manager, loop.latentShape());
      XtSampler.Xt xt = sampler.sample(phi, xT, k, condition, concept.empty());
      out.add(
          new Retained(
              xt.latents(),
              NoisePredictor.timestep(manager, xt.timestep(), xt.latents().getShape().get(0)),
              condition));
    }
    return out;
  }

  /** A copy of the state after the last finished iteration, its arrays owned by {@code owner}. */
  public TrainingCheckpoint checkpoint(NDManager owner) {
    Map<String, NDArray> weights = new LinkedHashMap<>();
    trainable.forEach((name, p) -> weights.put(name, detachedCopy(p.array(), owner)));
    Map<String, NDArray> mean = new LinkedHashMap<>();
    optimizer.mean().forEach((name, a) -> mean.put(name, detachedCopy(a, owner)));
    Map<String, NDArray> variance = new LinkedHashMap<>();
    optimizer.variance().forEach((name, a) -> variance.put(name, detachedCopy(a, owner)));
    return new TrainingCheckpoint(
        nextIteration, optimizer.stepCount(), weights, mean, variance, Map.copyOf(lastLosses));
  }

  /** Continues from a saved state of a run of the same request. */
  public void restore(TrainingCheckpoint state) {
    if (!state.weights().keySet().equals(trainable.keySet())) {
      throw new IllegalArgumentException("saved state trains other parameters than this run");
    }
    if (state.iteration() < 0 || state.iteration() > loop.iterations()) {
      throw new IllegalArgumentException(
          "saved state is at iteration "
              + state.iteration()
              + ", outside this run's "
              + loop.iterations());
    }
    // Check everything before changing anything, so a refused state leaves the run as it was.
    for (Map<String, NDArray> group :
        List.of(state.weights(), state.adamMean(), state.adamVariance())) {
      if (!group.keySet().equals(trainable.keySet())) {
        throw new IllegalArgumentException("saved state trains other parameters than this run");
      }
      group.forEach(
          (name, value) -> {
            if (!value.getShape().equals(trainable.get(name).shape())) {
              throw new IllegalArgumentException(
                  "saved state has "
                      + name
                      + " of shape "
                      + value.getShape()
                      + " but this run's is "
                      + trainable.get(name).shape());
            }
          });
    }
    state
        .weights()
        .forEach((name, value) -> AdamOptimizer.copyInto(value, trainable.get(name).array()));
    optimizer.restore(state.optimizerStep(), state.adamMean(), state.adamVariance());
    nextIteration = state.iteration();
    lastLosses = state.lastLosses();
  }

  /** A copy through host memory: shares nothing with the live array or its autograd state. */
  private static NDArray detachedCopy(NDArray array, NDManager owner) {
    NDArray copy = Tensors.create(owner, array.toFloatArray(), array.getShape());
    NDScope.unregister(copy);
    return copy;
  }

  @Override
  public void close() {
    trainable.values().forEach(p -> p.array().setRequiresGradient(false));
    optimizer.close();
    manager.close();
  }
}
