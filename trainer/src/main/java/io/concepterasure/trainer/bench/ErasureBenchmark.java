package io.concepterasure.trainer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.erasure.ErasureRequest;
import io.concepterasure.trainer.erasure.ErasureRun;
import io.concepterasure.trainer.erasure.ErasureTrainer;
import io.concepterasure.trainer.erasure.RequestFile;
import io.concepterasure.trainer.erasure.RetainPool;
import io.concepterasure.trainer.evaluation.ImageSimilarity;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.SafetensorsWriter;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Tensors;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import io.concepterasure.trainer.toy.ShapeClassifier;
import io.concepterasure.trainer.toy.ShapesDataset;
import io.concepterasure.trainer.toy.ShapesDataset.Colour;
import io.concepterasure.trainer.toy.ShapesDataset.ShapeKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The erasure benchmark of docs/benchmarks.md on the toy shapes model: how well each method erases
 * a concept (with and without an alternative), what it breaks, and what it costs, judged by the
 * shape classifier.
 *
 * <p>Three parts, each its own entry point so the command can run every training run in a fresh
 * process (its peak memory is then the run's own): {@link #baseline} judges the original model once
 * and keeps its images of the unrelated prompts; {@link #runOne} trains one (scenario, method,
 * learning rate, seed) and judges the erased model against that baseline; {@link BenchmarkReport}
 * turns the results into the tables.
 */
public final class ErasureBenchmark {
  /**
   * A shape image whose most likely shape has less probability than this counts as disintegrated.
   */
  public static final float LOW_CONFIDENCE = 0.5f;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Sample seeds: evaluation images, and the smaller set of the erasure curve; neither is a
   * training seed.
   */
  private static final long EVALUATION_SEEDS = 100_000;

  private static final long CURVE_SEEDS = 200_000;

  /** The sweep's own sample seeds. */
  private static final long VALIDATION_SEEDS = 300_000;

  /**
   * What to erase: {@code erased} in every colour (one request concept per colour), replaced by
   * {@code alternative} in the same colour when there is one; judged on {@code erasedPrompts} and,
   * for preservation, on unrelated prompts of other shapes: {@code validationPrompts} in the sweep,
   * {@code testPrompts} in the reported runs. Both are held out of the retain pool.
   */
  public record Scenario(
      String name,
      ShapeKind erased,
      ShapeKind alternative,
      List<String> erasedPrompts,
      List<String> validationPrompts,
      List<String> testPrompts) {
    public List<RequestFile.Concept> concepts(boolean withAlternative) {
      List<RequestFile.Concept> concepts = new ArrayList<>();
      for (Colour colour : Colour.values()) {
        concepts.add(
            new RequestFile.Concept(
                ShapesDataset.caption(erased, colour),
                withAlternative && alternative != null
                    ? ShapesDataset.caption(alternative, colour)
                    : null));
      }
      return concepts;
    }

    /**
     * The alternative's own prompts, in the colours of {@link #erasedPrompts}; empty without one.
     */
    public List<String> alternativePrompts() {
      if (alternative == null) {
        return List.of();
      }
      return erasedPrompts.stream()
          .map(p -> ShapesDataset.caption(alternative, parse(p).colour()))
          .toList();
    }

    public List<String> unrelatedPrompts(Phase phase) {
      return phase == Phase.VALIDATION ? validationPrompts : testPrompts;
    }

    /**
     * The toy world's retain pool: the captions of the model's other concepts (every shape in every
     * colour, the erased concepts filtered out as {@link RetainPool#filter} does for any request),
     * with every judged unrelated prompt held out, so that a score never measures a prompt that
     * L_keep trained on.
     */
    public List<String> retainPool() {
      List<String> all = new ArrayList<>();
      for (ShapeKind shape : ShapeKind.values()) {
        for (Colour colour : Colour.values()) {
          all.add(ShapesDataset.caption(shape, colour));
        }
      }
      all.removeAll(validationPrompts);
      all.removeAll(testPrompts);
      List<String> erasing = concepts(false).stream().map(c -> c.erase).toList();
      return RetainPool.filter(all, erasing);
    }
  }

  /**
   * The sweep picks learning rates on validation runs (their own training seed, sample seeds and
   * unrelated prompts); the tables report test runs, which share none of them.
   */
  public enum Phase {
    VALIDATION("val"),
    TEST("test");

    private final String tag;

    Phase(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }

    public static Phase fromTag(String tag) {
      return Arrays.stream(values())
          .filter(p -> p.tag.equals(tag))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown phase '" + tag + "'"));
    }
  }

  /** A method on a parameter set, with the learning rates its sweep tries. */
  public record Variant(
      String label, String method, String parameters, List<Double> learningRates) {
    boolean usesAlternative() {
      return !method.equals("esd");
    }
  }

  public static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario(
              "circle-to-square",
              ShapeKind.CIRCLE,
              ShapeKind.SQUARE,
              List.of("a red circle", "a blue circle"),
              List.of("a red triangle", "a blue cross", "a yellow triangle", "a green cross"),
              List.of("a green triangle", "a yellow cross", "a purple triangle", "a red cross")),
          new Scenario(
              "triangle-without-alternative",
              ShapeKind.TRIANGLE,
              null,
              List.of("a red triangle", "a blue triangle"),
              List.of("a blue circle", "a purple square", "a red cross", "a green cross"),
              List.of("a green circle", "a yellow square", "a purple cross", "a red square")));

  public static final List<Variant> VARIANTS =
      List.of(
          new Variant("allButOne", "allButOne", "crossAttention", List.of(1e-4, 3e-4, 1e-3)),
          new Variant("allButOne-kv", "allButOne", "crossAttentionKV", List.of(1e-4, 3e-4, 1e-3)),
          new Variant("esd-x", "esd", "crossAttention", List.of(1e-4, 3e-4, 1e-3)),
          // ESD-u as ESD's noxattn trains it (TrainableParameterSet.NON_CROSS_ATTENTION).
          new Variant("esd-u", "esd", "nonCrossAttention", List.of(1e-5, 3e-5, 1e-4)),
          // Concept Ablation's default parameter group: the cross-attention's to_k and to_v.
          new Variant(
              "conceptAblation", "conceptAblation", "crossAttentionKV", List.of(1e-4, 3e-4, 1e-3)));

  /** How much each run trains and how much it samples. */
  public record Protocol(
      int iterations,
      int samples,
      int curveSamples,
      int checkpoints,
      int evaluationSteps,
      int trainingDdimSteps,
      float guidance,
      double preserveWeight) {}

  /** One training run of the benchmark. */
  public record RunSpec(
      String scenario, String variant, double learningRate, long seed, Phase phase) {
    public String fileName() {
      return String.format(
          Locale.ROOT,
          "%s__%s__lr%.0e__seed%d__%s.json",
          scenario,
          variant,
          learningRate,
          seed,
          phase.tag());
    }
  }

  private final Path model;
  private final Path classifierFile;
  private final Protocol settings;
  private final PrintWriter log;

  public ErasureBenchmark(Path model, Path classifierFile, Protocol settings, PrintWriter log) {
    this.model = model;
    this.classifierFile = classifierFile;
    this.settings = settings;
    this.log = log;
  }

  public static Scenario scenario(String name) {
    return SCENARIOS.stream()
        .filter(s -> s.name.equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown scenario '" + name + "'"));
  }

  public static Variant variant(String label) {
    return VARIANTS.stream()
        .filter(v -> v.label.equals(label))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown variant '" + label + "'"));
  }

  /**
   * Judges the original model: every shape in every colour from its own prompt (the model's
   * quality), and each scenario's prompts, whose unrelated images it keeps for the runs' same-seed
   * comparisons. Writes {@code baseline.json} and one {@code baseline-<scenario>.safetensors}.
   */
  public Map<String, Object> baseline(Path out) throws IOException {
    Files.createDirectories(out);
    Map<String, Object> result = new LinkedHashMap<>();
    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline original =
            StableDiffusionPipeline.load(model, manager, DataType.FLOAT32)) {
      ShapeClassifier classifier = classifier(manager);
      Map<String, Object> quality = new LinkedHashMap<>();
      Map<ShapeKind, int[]> byShape = new LinkedHashMap<>();
      Map<Colour, int[]> byColour = new LinkedHashMap<>();
      for (ShapeKind shape : ShapeKind.values()) {
        for (Colour colour : Colour.values()) {
          String prompt = ShapesDataset.caption(shape, colour);
          Judged judged = judge(original, classifier, prompt, evaluationSeeds(), manager);
          int shapeRight = judged.count(v -> v.shape() == shape);
          int colourRight = judged.count(v -> v.colour() == colour);
          byShape.computeIfAbsent(shape, k -> new int[2])[0] += shapeRight;
          byShape.get(shape)[1] += judged.size();
          byColour.computeIfAbsent(colour, k -> new int[2])[0] += colourRight;
          byColour.get(colour)[1] += judged.size();
          quality.put(
              prompt,
              Map.of(
                  "shape",
                  judged.share(v -> v.shape() == shape),
                  "colour",
                  judged.share(v -> v.colour() == colour),
                  "disintegrated",
                  judged.share(ErasureBenchmark::disintegrated)));
          log.printf(
              Locale.ROOT,
              "original  %-18s shape %.3f colour %.3f%n",
              prompt,
              judged.share(v -> v.shape() == shape),
              judged.share(v -> v.colour() == colour));
          log.flush();
        }
      }
      Map<String, Double> shapeShares = new LinkedHashMap<>();
      byShape.forEach((k, v) -> shapeShares.put(k.word(), (double) v[0] / v[1]));
      Map<String, Double> colourShares = new LinkedHashMap<>();
      byColour.forEach((k, v) -> colourShares.put(k.word(), (double) v[0] / v[1]));
      result.put("samplesPerPrompt", settings.samples());
      result.put("shapeRecognised", shapeShares);
      result.put("colourRecognised", colourShares);
      result.put("perPrompt", quality);

      Map<String, Object> scenarios = new LinkedHashMap<>();
      for (Scenario scenario : SCENARIOS) {
        Map<String, Object> s = new LinkedHashMap<>();
        List<Judged> erased = judgeAll(original, classifier, scenario.erasedPrompts(), manager);
        s.put("erasedShare", share(erased, v -> v.shape() == scenario.erased()));
        s.put("disintegrated", share(erased, ErasureBenchmark::disintegrated));
        if (scenario.alternative() != null) {
          List<Judged> alternative =
              judgeAll(original, classifier, scenario.alternativePrompts(), manager);
          // The ceiling: how reliably the alternative's own prompt gives the alternative.
          s.put("alternativeCeiling", share(alternative, v -> v.shape() == scenario.alternative()));
          s.put(
              "alternativeConfusedWithErased",
              share(alternative, v -> v.shape() == scenario.erased()));
        }
        for (Phase phase : Phase.values()) {
          Map<String, NDArray> keep = new LinkedHashMap<>();
          List<Judged> unrelated = new ArrayList<>();
          for (String prompt : scenario.unrelatedPrompts(phase)) {
            Judged judged = judge(original, classifier, prompt, seeds(phase), manager);
            unrelated.add(judged);
            keep.put(prompt + "/images", judged.images);
            keep.put(prompt + "/latents", judged.latents);
          }
          String key = phase == Phase.TEST ? "unrelatedAccuracy" : "validationUnrelatedAccuracy";
          s.put(key, accuracy(unrelated, scenario.unrelatedPrompts(phase)));
          SafetensorsWriter.write(out.resolve(baselineFile(scenario, phase)), keep, Map.of());
        }
        scenarios.put(scenario.name(), s);
        log.println("original  " + scenario.name() + " " + s);
        log.flush();
      }
      result.put("scenarios", scenarios);
    }
    JSON.writeValue(out.resolve("baseline.json").toFile(), result);
    return result;
  }

  static String baselineFile(Scenario scenario, Phase phase) {
    return "baseline-" + scenario.name() + "-" + phase.tag() + ".safetensors";
  }

  /**
   * Trains one run and judges its erased model against the baseline in {@code out}; writes its
   * result file.
   */
  public Map<String, Object> runOne(RunSpec spec, Path out) throws IOException {
    Scenario scenario = scenario(spec.scenario());
    Variant variant = variant(spec.variant());
    ErasureRequest request = request(spec, scenario, variant, out);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("spec", spec);
    result.put("method", variant.method());
    result.put("parameters", variant.parameters());
    result.put("iterations", settings.iterations());
    result.put("preserveWeight", settings.preserveWeight());
    try (NDManager manager = NDManager.newBaseManager();
        StableDiffusionPipeline original =
            StableDiffusionPipeline.load(model, manager, DataType.FLOAT32)) {
      ShapeClassifier classifier = classifier(manager);
      UNet2DConditionModel phi = new UNet2DConditionModel(original.unet().config());
      StateDictLoader.load(
          phi,
          model.resolve("unet/diffusion_pytorch_model.safetensors"),
          manager,
          DataType.FLOAT32);
      StableDiffusionPipeline erased =
          new StableDiffusionPipeline(
              original.tokenizer(),
              original.textEncoder(),
              phi,
              original.vae(),
              new DdimScheduler(original.scheduler().config()),
              original.defaultImageSize() / original.vae().scaleFactor());
      train(request, scenario, original, phi, erased, classifier, manager, result);
      judgeErasedPrompts(scenario, spec.phase(), erased, classifier, manager, result);
      judgeUnrelatedPrompts(scenario, spec.phase(), erased, classifier, manager, out, result);
    }
    Path results = out.resolve("runs");
    Files.createDirectories(results);
    Path partial = results.resolve(spec.fileName() + ".partial");
    JSON.writeValue(partial.toFile(), result);
    Files.move(partial, results.resolve(spec.fileName()), StandardCopyOption.ATOMIC_MOVE);
    return result;
  }

  /** The request of a run, built and parsed as {@code trainer erase} would. */
  private ErasureRequest request(RunSpec spec, Scenario scenario, Variant variant, Path out) {
    RequestFile file = new RequestFile();
    file.model = new RequestFile.Location(model.toString());
    file.output = new RequestFile.Location(out.resolve("unused").toString());
    file.concepts = scenario.concepts(variant.usesAlternative());
    file.method().name = variant.method();
    file.method().parameters = variant.parameters();
    file.method().learningRate = spec.learningRate();
    file.method().iterations = settings.iterations();
    file.method().seed = spec.seed();
    file.method().ddimSteps = settings.trainingDdimSteps();
    file.method().guidanceScale = (double) settings.guidance();
    file.method().preserveWeight = settings.preserveWeight();
    return file.toRequest();
  }

  /**
   * Trains φ through exactly the code {@code trainer erase} uses, judging the first erased prompt
   * every few iterations for the erasure curve; the judging time is left out of the training time.
   */
  private void train(
      ErasureRequest request,
      Scenario scenario,
      StableDiffusionPipeline original,
      UNet2DConditionModel phi,
      StableDiffusionPipeline erased,
      ShapeClassifier classifier,
      NDManager manager,
      Map<String, Object> result) {
    List<Map<String, Object>> curve = new ArrayList<>();
    int every = Math.max(1, settings.iterations() / settings.checkpoints());
    long[] curveSeeds = seeds(CURVE_SEEDS, settings.curveSamples());
    long[] evaluating = {0};
    long start = System.nanoTime();
    Map<String, Double> losses;
    // R as `trainer erase` makes it, from the toy world's pool instead of the model's default.
    List<String> retain = RetainPool.forRequest(request, scenario.retainPool());
    result.put("retainPrompts", request.method().preserveWeight() == 0 ? List.of() : retain);
    try (ErasureTrainer trainer = ErasureRun.newTrainer(request, original, phi, manager, retain)) {
      losses =
          trainer.train(
              (iteration, l, t) -> {
                if ((iteration + 1) % every == 0) {
                  long t0 = System.nanoTime();
                  curve.add(
                      curvePoint(scenario, erased, classifier, curveSeeds, iteration, l, manager));
                  evaluating[0] += System.nanoTime() - t0;
                }
              });
    }
    double trainSeconds = (System.nanoTime() - start - evaluating[0]) / 1e9;
    result.put("trainSeconds", trainSeconds);
    result.put("secondsPerIteration", trainSeconds / settings.iterations());
    result.put("peakResidentMiB", ProcessMemory.read().peakRssMb());
    result.put("finalLosses", losses);
    result.put("curve", curve);
    result.put("plateauIteration", plateau(curve));
  }

  private Map<String, Object> curvePoint(
      Scenario scenario,
      StableDiffusionPipeline erased,
      ShapeClassifier classifier,
      long[] curveSeeds,
      int iteration,
      Map<String, Double> losses,
      NDManager manager) {
    Judged judged = judge(erased, classifier, scenario.erasedPrompts().get(0), curveSeeds, manager);
    Map<String, Object> point = new LinkedHashMap<>();
    point.put("iteration", iteration + 1);
    point.put("erasedShare", judged.share(v -> v.shape() == scenario.erased()));
    if (scenario.alternative() != null) {
      point.put("alternativeShare", judged.share(v -> v.shape() == scenario.alternative()));
    }
    point.put("loss", losses.get("loss"));
    log.println("  iteration " + (iteration + 1) + " " + point);
    log.flush();
    return point;
  }

  /** How often the erased prompts still give the erased shape, the alternative, or nothing. */
  private void judgeErasedPrompts(
      Scenario scenario,
      Phase phase,
      StableDiffusionPipeline erased,
      ShapeClassifier classifier,
      NDManager manager,
      Map<String, Object> result) {
    List<Judged> erasedPrompts = new ArrayList<>();
    for (String prompt : scenario.erasedPrompts()) {
      erasedPrompts.add(judge(erased, classifier, prompt, seeds(phase), manager));
    }
    result.put("erasedShare", share(erasedPrompts, v -> v.shape() == scenario.erased()));
    if (scenario.alternative() != null) {
      result.put(
          "alternativeShare", share(erasedPrompts, v -> v.shape() == scenario.alternative()));
    }
    result.put("disintegrated", share(erasedPrompts, ErasureBenchmark::disintegrated));
  }

  /**
   * What erasing did to the unrelated prompts, against the original's images and latents kept in
   * {@code out} by {@link #baseline}: accuracy, same-seed SSIM, latent MSE, Fréchet distance.
   */
  private void judgeUnrelatedPrompts(
      Scenario scenario,
      Phase phase,
      StableDiffusionPipeline erased,
      ShapeClassifier classifier,
      NDManager manager,
      Path out,
      Map<String, Object> result)
      throws IOException {
    List<Judged> unrelated = new ArrayList<>();
    double ssim = 0;
    double latentMse = 0;
    List<double[]> originalFeatures = new ArrayList<>();
    List<double[]> erasedFeatures = new ArrayList<>();
    List<String> prompts = scenario.unrelatedPrompts(phase);
    try (SafetensorsReader kept =
        SafetensorsReader.open(out.resolve(baselineFile(scenario, phase)))) {
      for (String prompt : prompts) {
        Judged after = judge(erased, classifier, prompt, seeds(phase), manager);
        unrelated.add(after);
        try (NDManager scratch = manager.newSubManager()) {
          NDArray beforeImages = kept.read(prompt + "/images", scratch);
          NDArray beforeLatents = kept.read(prompt + "/latents", scratch);
          ssim += ssimSum(beforeImages, after);
          latentMse += beforeLatents.sub(after.latents).square().mean().getFloat();
          originalFeatures.addAll(List.of(features(classifier, beforeImages)));
          erasedFeatures.addAll(List.of(after.features));
        }
      }
    }
    int unrelatedImages = unrelated.stream().mapToInt(Judged::size).sum();
    result.put("unrelatedAccuracy", accuracy(unrelated, prompts));
    // Shape and colour apart: which of the two a method loses (docs/method.md, no alternative).
    result.put("unrelatedShapeAccuracy", partAccuracy(unrelated, prompts, true));
    result.put("unrelatedColourAccuracy", partAccuracy(unrelated, prompts, false));
    result.put("unrelatedSsim", ssim / unrelatedImages);
    result.put("unrelatedLatentMse", latentMse / prompts.size());
    result.put(
        "unrelatedFrechet",
        FrechetDistance.between(
            originalFeatures.toArray(new double[0][]), erasedFeatures.toArray(new double[0][])));
  }

  /** The SSIMs of each original image with the erased model's image of the same seed, summed. */
  private static double ssimSum(NDArray beforeImages, Judged after) {
    int side = (int) beforeImages.getShape().get(2);
    int each = (int) (beforeImages.size() / after.size());
    float[] a = beforeImages.toFloatArray();
    float[] b = after.images.toFloatArray();
    double sum = 0;
    for (int i = 0; i < after.size(); i++) {
      sum +=
          ImageSimilarity.ssim(
              Arrays.copyOfRange(a, i * each, (i + 1) * each),
              Arrays.copyOfRange(b, i * each, (i + 1) * each),
              side,
              side);
    }
    return sum;
  }

  /**
   * The first checkpoint whose erased share is within 5 points of the run's lowest: where erasure
   * stopped improving.
   */
  static Integer plateau(List<Map<String, Object>> curve) {
    if (curve.isEmpty()) {
      return null;
    }
    double best =
        curve.stream().mapToDouble(p -> (Double) p.get("erasedShare")).min().orElseThrow();
    for (Map<String, Object> point : curve) {
      if ((Double) point.get("erasedShare") <= best + 0.05) {
        return (Integer) point.get("iteration");
      }
    }
    return null;
  }

  static boolean disintegrated(ShapeClassifier.Verdict v) {
    return v.shape() == null || v.shapeConfidence() < LOW_CONFIDENCE;
  }

  /** The shape and colour a prompt of the toy world names ("a red circle"). */
  static ShapesDataset.Sample parse(String prompt) {
    for (ShapeKind shape : ShapeKind.values()) {
      for (Colour colour : Colour.values()) {
        if (ShapesDataset.caption(shape, colour).equals(prompt)) {
          return new ShapesDataset.Sample(null, shape, colour, prompt);
        }
      }
    }
    throw new IllegalArgumentException(
        "'" + prompt + "' is not a toy-world prompt (\"a <colour> <shape>\")");
  }

  /** The share of images classified as both the shape and the colour their prompt names. */
  static double accuracy(List<Judged> judged, List<String> prompts) {
    int right = 0;
    int all = 0;
    for (int p = 0; p < prompts.size(); p++) {
      ShapesDataset.Sample named = parse(prompts.get(p));
      right += judged.get(p).count(v -> v.shape() == named.shape() && v.colour() == named.colour());
      all += judged.get(p).size();
    }
    return (double) right / all;
  }

  /** The share of images with the prompt's shape ({@code shape}) or its colour (otherwise). */
  static double partAccuracy(List<Judged> judged, List<String> prompts, boolean shape) {
    int right = 0;
    int all = 0;
    for (int p = 0; p < prompts.size(); p++) {
      ShapesDataset.Sample named = parse(prompts.get(p));
      right +=
          judged
              .get(p)
              .count(v -> shape ? v.shape() == named.shape() : v.colour() == named.colour());
      all += judged.get(p).size();
    }
    return (double) right / all;
  }

  static double share(List<Judged> judged, Predicate<ShapeClassifier.Verdict> test) {
    int hits = judged.stream().mapToInt(j -> j.count(test)).sum();
    int all = judged.stream().mapToInt(Judged::size).sum();
    return (double) hits / all;
  }

  private List<Judged> judgeAll(
      StableDiffusionPipeline pipeline,
      ShapeClassifier classifier,
      List<String> prompts,
      NDManager manager) {
    List<Judged> out = new ArrayList<>();
    for (String prompt : prompts) {
      out.add(judge(pipeline, classifier, prompt, evaluationSeeds(), manager));
    }
    return out;
  }

  /** Samples {@code prompt} once per seed (one batch) and classifies the images. */
  Judged judge(
      StableDiffusionPipeline pipeline,
      ShapeClassifier classifier,
      String prompt,
      long[] seeds,
      NDManager manager) {
    int n = seeds.length;
    int size = pipeline.defaultImageSize();
    NDArray latents;
    NDArray images;
    try (NDManager scratch = manager.newSubManager()) {
      NDArray embeds = pipeline.encodePrompts(scratch, Collections.nCopies(n, prompt));
      NDArray negative = pipeline.encodePrompts(scratch, Collections.nCopies(n, ""));
      NDArray start = pipeline.initialLatents(scratch, seeds, size, size);
      latents =
          pipeline.denoise(
              embeds, negative, start, settings.evaluationSteps(), settings.guidance(), null);
      images = pipeline.decode(latents);
      latents.attach(manager);
      images.attach(manager);
    }
    List<ShapeClassifier.Verdict> verdicts =
        classifier.classify(Tensors.sub(Tensors.mul(images, 2), 1));
    return new Judged(verdicts, features(classifier, images), images, latents);
  }

  private static double[][] features(ShapeClassifier classifier, NDArray images) {
    try (NDManager scratch = images.getManager().newSubManager()) {
      NDArray scaled = Tensors.sub(Tensors.mul(images, 2), 1);
      scaled.attach(scratch);
      NDArray f = classifier.features(scaled);
      f.attach(scratch);
      int n = (int) f.getShape().get(0);
      int d = (int) f.getShape().get(1);
      float[] flat = f.toFloatArray();
      double[][] out = new double[n][d];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
          out[i][j] = flat[i * d + j];
        }
      }
      return out;
    }
  }

  private ShapeClassifier classifier(NDManager manager) throws IOException {
    ShapeClassifier classifier = new ShapeClassifier();
    StateDictLoader.load(classifier, classifierFile, manager, DataType.FLOAT32);
    return classifier;
  }

  private long[] evaluationSeeds() {
    return seeds(EVALUATION_SEEDS, settings.samples());
  }

  /** Test runs sample the reported seeds; validation runs their own. */
  private long[] seeds(Phase phase) {
    return seeds(phase == Phase.TEST ? EVALUATION_SEEDS : VALIDATION_SEEDS, settings.samples());
  }

  private static long[] seeds(long from, int n) {
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = from + i;
    }
    return seeds;
  }

  /** One prompt's images, their final latents, classifier verdicts and features. */
  static final class Judged {
    final List<ShapeClassifier.Verdict> verdicts;
    final double[][] features;
    final NDArray images;
    final NDArray latents;

    Judged(
        List<ShapeClassifier.Verdict> verdicts,
        double[][] features,
        NDArray images,
        NDArray latents) {
      this.verdicts = verdicts;
      this.features = features;
      this.images = images;
      this.latents = latents;
    }

    int size() {
      return verdicts.size();
    }

    int count(Predicate<ShapeClassifier.Verdict> test) {
      return (int) verdicts.stream().filter(test).count();
    }

    double share(Predicate<ShapeClassifier.Verdict> test) {
      return (double) count(test) / size();
    }
  }
}
