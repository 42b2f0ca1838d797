package io.concepterasure.trainer.erasure;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.device.DeviceChoice;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.evaluation.EvaluationReport;
import io.concepterasure.trainer.evaluation.ImageJudge;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.io.StateDictWriter;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * One erasure request, start to finish: load the model, train φ (resuming from a saved state of the
 * same request), write the erased model in the diffusers layout with evaluation.png, and commit
 * erasure.json last (see {@link ErasureOutput}).
 */
public final class ErasureRun {
  static final String STATE_FILE = "state.safetensors";
  static final String STATE_REQUEST = "request.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ErasureRequest request;
  private final int checkpointEvery;
  private final Integer stopAfterIterations;
  private final PrintWriter log;
  private final TrainingProgressFactory progress;
  private final String version;
  private final Optional<ImageJudge> judge;
  private Path stagedModel;
  private Path stagedOutput;
  private TrainingStateReplica stateReplica = TrainingStateReplica.NONE;
  private String modelCommit;
  private DeviceChoice device;

  /**
   * Makes the progress display for a run that starts at {@code first} of {@code total} iterations.
   */
  @FunctionalInterface
  public interface TrainingProgressFactory {
    BiConsumer<Integer, Map<String, Double>> create(int first, int total);
  }

  /** The run stopped on purpose before the end (a test's stand-in for a killed pod). */
  public static final class Interrupted extends RuntimeException {
    Interrupted(int iterations) {
      super("stopped after " + iterations + " iterations, as asked; run again to resume");
    }
  }

  /**
   * @param request a validated request with defaults applied
   * @param checkpointEvery save the training state every this many iterations (0: never)
   * @param stopAfterIterations stop (as if killed) once this many iterations are done; null: run to
   *     the end
   */
  public ErasureRun(
      ErasureRequest request,
      int checkpointEvery,
      Integer stopAfterIterations,
      PrintWriter log,
      TrainingProgressFactory progress,
      String version,
      Optional<ImageJudge> judge) {
    this.judge = judge;
    this.request = request;
    this.checkpointEvery = checkpointEvery;
    this.stopAfterIterations = stopAfterIterations;
    this.log = log;
    this.progress = progress;
    this.version = version;
  }

  /**
   * Reads the model from and writes the output to these local folders instead of the request's
   * locations (which erasure.json still records); null keeps the request's. See RequestStorage.
   */
  public ErasureRun stagedAt(Path model, Path output) {
    this.stagedModel = model;
    this.stagedOutput = output;
    return this;
  }

  /**
   * The commit an {@code hf://} model's revision resolved to, recorded in erasure.json as {@code
   * modelCommit} (a branch moves; the commit names the weights that were erased from).
   */
  public ErasureRun resolvedModelCommit(String commit) {
    this.modelCommit = commit;
    return this;
  }

  /** Copies the training state there as it is saved (RequestStorage: an s3:// output). */
  public ErasureRun replicatingStateTo(TrainingStateReplica replica) {
    this.stateReplica = replica;
    return this;
  }

  /** Computes on this device (erasure.json records it); unset: the engine's default device. */
  public ErasureRun onDevice(DeviceChoice device) {
    this.device = device;
    return this;
  }

  /**
   * A local folder for a request URI: a path or a file: URI (object stores are mounted or staged by
   * the caller).
   */
  public static Path localFolder(String field, String uri) {
    if (uri.startsWith("file:")) {
      return Path.of(URI.create(uri));
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0) {
      throw new InvalidRequestException(
          field
              + ": '"
              + uri
              + "' is a "
              + uri.substring(0, scheme)
              + ":// location; this command reads and writes local folders (a path or file:// URI)");
    }
    return Path.of(uri);
  }

  /** Runs the request; returns the erasure.json record written. */
  public Map<String, Object> run() throws IOException {
    Instant start = Instant.now();
    Path modelFolder =
        stagedModel != null ? stagedModel : localFolder("model.uri", request.model().uri());
    ErasureOutput output =
        new ErasureOutput(
            stagedOutput != null
                ? stagedOutput
                : localFolder("output.uri", request.output().uri()));
    Map<String, Object> finished = output.finishedRecord();
    if (finished != null) {
      if (JSON.readTree(request.toJson()).equals(JSON.valueToTree(finished.get("request")))) {
        log.println(
            "output "
                + output.root()
                + " already holds this erasure (erasure.json); nothing to do");
        return finished;
      }
      throw new InvalidRequestException(
          "output.uri "
              + output.root()
              + " already holds a finished erasure of another request; choose another output or remove it");
    }
    DiffusersModelLayout layout = DiffusersModelLayout.open(modelFolder);
    ErasureRequest.Method m = request.method();
    if (!m.name().usesAlternative()
        && request.concepts().stream().anyMatch(c -> c.alternative() != null)) {
      log.println(
          "warning: method "
              + m.name().specName()
              + " has no alternative concept; concepts[].alternative is ignored");
    }

    Device computeOn = device != null ? device.device() : Engine.getInstance().defaultDevice();
    Precision precision = m.precision() != null ? m.precision() : Precision.defaultFor(computeOn);
    try (NDManager manager = NDManager.newBaseManager(computeOn);
        StableDiffusionPipeline original =
            StableDiffusionPipeline.load(
                modelFolder, manager, DataType.FLOAT32, precision.frozenUNet())) {
      checkJudgeFits(original.defaultImageSize());
      UNet2DConditionModel phi = new UNet2DConditionModel(original.unet().config());
      StateDictLoader.load(phi, layout.unet().weights(), manager, DataType.FLOAT32);
      phi.setGradientCheckpointing(m.gradientCheckpointing());
      Map<String, Double> losses;
      int firstIteration;
      List<String> retain = RetainPool.forRequest(request, RetainPool.defaultsFor(modelFolder));
      try (ErasureTrainer trainer = newTrainer(request, original, phi, manager, retain)) {
        firstIteration = resume(trainer, output, manager);
        log.println(
            "erasing "
                + request.concepts().size()
                + " concept(s) with "
                + m.name().specName()
                + " on "
                + m.parameters().specName()
                + " ("
                + trainer.trainableParameters().size()
                + " tensors), iterations "
                + firstIteration
                + ".."
                + m.iterations()
                + (retain.isEmpty() || m.preserveWeight() == 0
                    ? ""
                    : ", holding "
                        + retain.size()
                        + " retain prompt(s) (μ "
                        + m.preserveWeight()
                        + ")")
                + ", precision "
                + precision.specName()
                + (precision == Precision.MIXED ? " (frozen UNet in float16)" : "")
                + (m.gradientCheckpointing() ? ", gradient checkpointing" : ""));
        anchors(request)
            .forEach(
                a ->
                    log.println(
                        "no alternative for '"
                            + a.get("erase")
                            + "': erasing towards the preset anchor '"
                            + a.get("anchor")
                            + "'"));
        BiConsumer<Integer, Map<String, Double>> bar =
            progress.create(firstIteration, m.iterations());
        losses =
            trainer.train(
                (iteration, l, t) -> afterIteration(iteration, l, t, bar, output, manager));
      }
      Path staging = output.freshStaging();
      writeModel(layout, phi, staging);
      Map<String, Object> evaluation =
          EvaluationReport.write(
              original,
              phi,
              evaluationPrompts(request),
              request.evaluation().seeds(),
              request.method().ddimSteps(),
              Math.max((float) request.method().guidanceScale(), 1f),
              manager,
              staging.resolve("evaluation.png"),
              judge,
              Optional.ofNullable(request.evaluation().detector()));

      Map<String, Object> record = new LinkedHashMap<>();
      record.put("request", JSON.readTree(request.toJson()));
      record.put("version", version);
      if (modelCommit != null) {
        record.put("modelCommit", modelCommit);
      }
      record.put("device", device != null ? device.name() : manager.getDevice().toString());
      record.put("precision", precision.specName());
      record.put("startTime", start.toString());
      record.put("resumedFromIteration", firstIteration);
      record.put("finalLosses", losses);
      record.put("anchors", anchors(request));
      record.put("retainPrompts", m.preserveWeight() == 0 ? List.of() : retain);
      record.put("evaluation", evaluation);
      record.put("baseModelFiles", ErasureOutput.sha256Tree(modelFolder));
      record.put("outputFiles", ErasureOutput.sha256Tree(staging));
      record.put("endTime", Instant.now().toString());
      output.commit(record);
      log.println("wrote the erased model to " + output.root());
      return record;
    }
  }

  /**
   * The trainer of {@code request} (validated, defaults applied): φ = {@code phi}, a copy of the
   * original's UNet that it trains in place; θ = the original's UNet, frozen; L_keep over {@code
   * retain} (R, see {@link RetainPool#forRequest}) with weight μ = preserveWeight.
   */
  public static ErasureTrainer newTrainer(
      ErasureRequest request,
      StableDiffusionPipeline original,
      UNet2DConditionModel phi,
      NDManager manager,
      List<String> retain) {
    ErasureRequest.Method m = request.method();
    List<ConceptEmbeddings> concepts = embed(request, original, manager);
    int latentSide = original.defaultImageSize() / original.vae().scaleFactor();
    Shape latent = new Shape(1, original.unet().config().inChannels(), latentSide, latentSide);
    DdimScheduler samplingScheduler = new DdimScheduler(original.scheduler().config());
    List<NDArray> retained = new ArrayList<>();
    if (m.preserveWeight() != 0) {
      for (String p : retain) {
        retained.add(original.encodePrompts(manager, List.of(p)));
      }
    }
    return new ErasureTrainer(
        TrainableNoisePredictor.of(phi, phi::forward),
        original.unet()::forward,
        m.name().objective((float) m.eta(), (float) m.lambda()),
        m.parameters(),
        new XtSampler(samplingScheduler, m.ddimSteps(), (float) m.guidanceScale()),
        concepts,
        new ErasureTrainer.LoopParameters(
            m.iterations(), m.seed(), (float) m.learningRate(), latent),
        new Preservation(
            m.preserveWeight() == 0 ? List.of() : retain,
            retained,
            (float) m.preserveWeight(),
            Preservation.DEFAULT_DRAWS));
  }

  private static List<ConceptEmbeddings> embed(
      ErasureRequest request, StableDiffusionPipeline pipeline, NDManager manager) {
    NDArray empty = pipeline.encodePrompts(manager, List.of(""));
    List<ConceptEmbeddings> out = new ArrayList<>();
    for (ErasureRequest.Concept c : request.concepts()) {
      String alternative = AnchorPresets.target(c);
      out.add(
          new ConceptEmbeddings(
              c.erase(),
              alternative,
              pipeline.encodePrompts(manager, List.of(c.erase())),
              alternative.isEmpty() ? empty : pipeline.encodePrompts(manager, List.of(alternative)),
              empty));
    }
    return out;
  }

  /**
   * The concepts that erase towards a preset anchor (no alternative given, a preset matches), as
   * erasure.json records them; ESD uses no alternative, so none.
   */
  static List<Map<String, String>> anchors(ErasureRequest request) {
    List<Map<String, String>> out = new ArrayList<>();
    if (!request.method().name().usesAlternative()) {
      return out;
    }
    for (ErasureRequest.Concept c : request.concepts()) {
      if (c.alternative() == null) {
        AnchorPresets.match(c.erase())
            .ifPresent(
                p -> {
                  Map<String, String> a = new LinkedHashMap<>();
                  a.put("erase", c.erase());
                  a.put("anchor", p.anchor());
                  a.put("preset", p.name());
                  out.add(a);
                });
      }
    }
    return out;
  }

  /**
   * Restores the saved state of this very request, if any; returns the iteration to start at. The
   * state of another request is refused, never overwritten: two resources writing to one output
   * would otherwise undo each other's training.
   */
  private int resume(ErasureTrainer trainer, ErasureOutput output, NDManager manager)
      throws IOException {
    Path folder = output.stateFolder();
    Path state = folder.resolve(STATE_FILE);
    Path savedRequest = folder.resolve(STATE_REQUEST);
    if (Files.isRegularFile(savedRequest)
        && !JSON.readTree(savedRequest.toFile()).equals(JSON.readTree(request.toJson()))) {
      throw new InvalidRequestException(
          "output.uri "
              + request.output().uri()
              + " holds the saved training state of another request ("
              + ErasureOutput.STATE
              + "/); choose another output, or delete "
              + ErasureOutput.STATE
              + "/ there to give up that run");
    }
    if (Files.isRegularFile(state) && Files.isRegularFile(savedRequest)) {
      try (NDManager scratch = manager.newSubManager()) {
        trainer.restore(TrainingCheckpointFile.read(state, scratch));
        log.println("resuming from the state saved after iteration " + trainer.nextIteration());
        return trainer.nextIteration();
      } catch (IOException | IllegalArgumentException e) {
        // An unreadable state must not block every retry: the run starts over instead.
        log.println("cannot resume from " + state + " (" + e.getMessage() + "); starting over");
      }
    }
    ErasureOutput.deleteTree(folder);
    stateReplica.cleared();
    Files.createDirectories(folder);
    Files.writeString(savedRequest, request.toJson());
    stateReplica.saved(savedRequest);
    if (modelCommit != null) {
      Path model = folder.resolve(ErasureOutput.STATE_MODEL);
      Files.writeString(model, JSON.writeValueAsString(Map.of("commit", modelCommit)));
      stateReplica.saved(model);
    }
    return 0;
  }

  private void afterIteration(
      int iteration,
      Map<String, Double> losses,
      ErasureTrainer trainer,
      BiConsumer<Integer, Map<String, Double>> bar,
      ErasureOutput output,
      NDManager manager) {
    bar.accept(iteration, losses);
    int done = iteration + 1;
    boolean stop =
        stopAfterIterations != null
            && done >= stopAfterIterations
            && done < request.method().iterations();
    if (checkpointEvery > 0
        && done % checkpointEvery == 0
        && done < request.method().iterations()) {
      Path file = output.stateFolder().resolve(STATE_FILE);
      try (NDManager scratch = manager.newSubManager()) {
        TrainingCheckpointFile.write(file, trainer.checkpoint(scratch));
        stateReplica.saved(file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot save the training state: " + e.getMessage(), e);
      }
    }
    if (stop) {
      throw new Interrupted(done);
    }
  }

  /** The erased UNet with its config, and every other file of the base model unchanged. */
  private static void writeModel(
      DiffusersModelLayout layout, UNet2DConditionModel phi, Path staging) throws IOException {
    Path base = layout.folder();
    Path unetFolder = layout.unet().folder();
    try (Stream<Path> walk = Files.walk(base)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        boolean unetWeights =
            file.getParent().equals(unetFolder) && !file.equals(layout.unet().config());
        if (unetWeights) {
          continue;
        }
        Path target = staging.resolve(base.relativize(file).toString());
        Files.createDirectories(target.getParent());
        Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
    Path relativeUnet = base.relativize(unetFolder);
    Files.createDirectories(staging.resolve(relativeUnet.toString()));
    StateDictWriter.save(
        phi,
        staging.resolve(relativeUnet.toString()).resolve("diffusion_pytorch_model.safetensors"));
  }

  /** Refused before training, not after: the judge must see images of the size the model draws. */
  private void checkJudgeFits(int size) {
    judge.ifPresent(
        j -> {
          if (j.imageSize() != size) {
            throw new InvalidRequestException(
                "--classifier judges "
                    + j.imageSize()
                    + "x"
                    + j.imageSize()
                    + " images but this model draws "
                    + size
                    + "x"
                    + size);
          }
        });
  }

  /** The erased prompts, their alternatives, then the request's evaluation prompts, each once. */
  private static List<String> evaluationPrompts(ErasureRequest request) {
    Set<String> prompts = new LinkedHashSet<>();
    for (ErasureRequest.Concept c : request.concepts()) {
      prompts.add(c.erase());
      if (c.alternative() != null) {
        prompts.add(c.alternative());
      }
    }
    prompts.addAll(request.evaluation().prompts());
    return List.copyOf(prompts);
  }
}
