package io.concepterasure.trainer.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.erasure.TrainableParameterSet;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.StateDictLoader;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.optim.AdamOptimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times one UNet training step (forward, MSE against a fixed target, backward, Adam over a
 * parameter set) and one inference step (classifier-free guidance batch of 2, no gradient), the
 * Java counterpart of {@code tools/parity/bench_torch.py}, whose JSON keys the {@link Report}
 * shares.
 *
 * <p>Each step runs in its own {@link NDScope}, as the trainer's loop does, so that its
 * intermediate arrays are freed when it ends; {@link #residentSizeOverSteps} checks that.
 */
public final class UNetBenchmark implements AutoCloseable {
  /** The tensors both benchmarks feed the UNet; {@code timestep} is {@code [batch]}. */
  public record Inputs(
      NDArray sample, NDArray encoderHiddenStates, NDArray target, NDArray timestep) {
    public static final List<String> NAMES =
        List.of("sample", "encoder_hidden_states", "target", "timestep");

    /** Reads the file {@code bench_torch.py --save-inputs} writes. */
    public static Inputs read(Path file, NDManager manager) throws IOException {
      try (SafetensorsReader reader = SafetensorsReader.open(file)) {
        List<String> missing = NAMES.stream().filter(n -> !reader.contains(n)).toList();
        if (!missing.isEmpty()) {
          throw new IllegalArgumentException(
              file + ": missing tensor(s) " + missing + " (has " + reader.names() + ")");
        }
        return new Inputs(
            reader.read("sample", manager, DataType.FLOAT32),
            reader.read("encoder_hidden_states", manager, DataType.FLOAT32),
            reader.read("target", manager, DataType.FLOAT32),
            reader.read("timestep", manager, DataType.INT64));
      }
    }

    /** Seeded inputs of the config's sizes, for when no input file is given. */
    public static Inputs random(
        UNet2DConditionConfig config, int batch, long size, NDManager manager, int seed) {
      Engine.getInstance().setRandomSeed(seed);
      NDArray sample = manager.randomNormal(new Shape(batch, config.inChannels(), size, size));
      NDArray context =
          manager.randomNormal(new Shape(batch, 77, config.crossAttentionDim().get(0)));
      NDArray target = manager.randomNormal(new Shape(batch, config.outChannels(), size, size));
      NDArray timestep = manager.randomInteger(0, 1000, new Shape(batch), DataType.INT64);
      return new Inputs(sample, context, target, timestep);
    }

    void check(UNet2DConditionConfig config) {
      Shape s = sample.getShape();
      if (s.dimension() != 4 || s.get(1) != config.inChannels()) {
        throw new IllegalArgumentException(
            "inputs: sample must be [batch, " + config.inChannels() + ", h, w], got " + s);
      }
      if (!target
          .getShape()
          .equals(new Shape(s.get(0), config.outChannels(), s.get(2), s.get(3)))) {
        throw new IllegalArgumentException(
            "inputs: target " + target.getShape() + " does not fit sample " + s);
      }
      Shape c = encoderHiddenStates.getShape();
      if (c.dimension() != 3
          || c.get(0) != s.get(0)
          || c.get(2) != config.crossAttentionDim().get(0)) {
        throw new IllegalArgumentException(
            "inputs: encoder_hidden_states must be ["
                + s.get(0)
                + ", tokens, "
                + config.crossAttentionDim().get(0)
                + "], got "
                + c);
      }
    }
  }

  /** The results, with the keys of bench_torch.py's JSON (and the memory check's). */
  public record Report(Map<String, Object> values) {}

  private final UNet2DConditionModel unet;
  private final Inputs inputs;
  private final TrainableParameterSet trainParams;
  private final Map<String, Parameter> trainable;
  private final AdamOptimizer adam;
  private final NDArray inferSample;
  private final NDArray inferContext;
  private final NDArray inferTimestep;

  public UNetBenchmark(
      UNet2DConditionModel unet,
      Inputs inputs,
      TrainableParameterSet trainParams,
      float learningRate) {
    inputs.check(unet.config());
    this.unet = unet;
    this.inputs = inputs;
    this.trainParams = trainParams;
    this.trainable = trainParams.select(unet.namedParameters());
    unet.namedParameters()
        .forEach((name, p) -> p.array().setRequiresGradient(trainable.containsKey(name)));
    // the trainer's optimizer (ErasureTrainer's), not DJL's
    this.adam = new AdamOptimizer(trainable, learningRate);
    this.inferSample = NDArrays.concat(new NDList(inputs.sample(), inputs.sample()));
    this.inferContext =
        NDArrays.concat(
            new NDList(inputs.encoderHiddenStates().zerosLike(), inputs.encoderHiddenStates()));
    this.inferTimestep = NDArrays.concat(new NDList(inputs.timestep(), inputs.timestep()));
  }

  /** One training step; returns the loss. */
  public float trainStep() {
    try (NDScope scope = new NDScope()) {
      float loss;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray out =
            unet.forward(inputs.sample(), inputs.timestep(), inputs.encoderHiddenStates());
        NDArray mse = out.sub(inputs.target()).square().mean();
        collector.backward(mse);
        loss = mse.getFloat();
      }
      // updates, then zeroes the gradients (torch's zero_grad)
      adam.step();
      return loss;
    }
  }

  /** One guided inference step (unconditional and conditional halves in one batch). */
  public void inferStep() {
    try (NDScope scope = new NDScope()) {
      // Forces the computation to finish (eager anyway) and reads nothing large.
      unet.forward(inferSample, inferTimestep, inferContext).getShape();
    }
  }

  /**
   * method.precision mixed's θ: this benchmark's UNet's {@code weights} file loaded again in
   * float16, timed over {@code iterations} of the same guided inference step (fp32 in and out, as
   * the trainer calls it), and its prediction compared with the fp32 UNet's. Call it before {@link
   * #run}, while both hold the file's weights; the float16 copy is freed before returning.
   */
  public Map<String, Object> frozenFp16(Path weights, int iterations) throws IOException {
    Map<String, Object> v = new LinkedHashMap<>();
    try (NDManager manager = inferSample.getManager().newSubManager()) {
      NDArray reference;
      try (NDScope scope = new NDScope()) {
        reference = unet.forward(inferSample, inferTimestep, inferContext);
        NDScope.unregister(reference);
      }
      reference.attach(manager);
      double before = ProcessMemory.read().rssMb();
      UNet2DConditionModel fp16 = new UNet2DConditionModel(unet.config());
      StateDictLoader.load(fp16, weights, manager, DataType.FLOAT16);
      v.put("fp16_unet_added_rss_mb", round(ProcessMemory.read().rssMb() - before, 1));
      NDArray[] out = new NDArray[1];
      List<Double> times =
          timeMs(
              () -> {
                try (NDScope scope = new NDScope()) {
                  NDArray o = fp16.forward(inferSample, inferTimestep, inferContext);
                  NDScope.unregister(o);
                  o.attach(manager);
                  out[0] = o;
                }
              },
              0,
              iterations);
      NDArray diff = out[0].sub(reference);
      double rms = Math.sqrt(reference.square().mean().getFloat());
      v.put("infer_fp16_step_ms", round(median(times), 2));
      v.put("infer_fp16_step_ms_all", times.stream().map(x -> round(x, 2)).toList());
      v.put("fp16_vs_fp32_rms_relative", Math.sqrt(diff.square().mean().getFloat()) / rms);
      v.put(
          "fp16_vs_fp32_max_abs_relative",
          diff.abs().max().getFloat() / (double) reference.abs().max().getFloat());
    }
    return v;
  }

  public static List<Double> timeMs(Runnable step, int warmup, int iterations) {
    for (int i = 0; i < warmup; i++) {
      step.run();
    }
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < iterations; i++) {
      long start = System.nanoTime();
      step.run();
      out.add((System.nanoTime() - start) / 1e6);
    }
    return out;
  }

  /**
   * Runs {@code steps} training steps and returns the resident size before and after, and the peak
   * over the whole process.
   */
  public ProcessMemory[] residentSizeOverSteps(int steps) {
    ProcessMemory start = ProcessMemory.read();
    for (int i = 0; i < steps; i++) {
      trainStep();
    }
    return new ProcessMemory[] {start, ProcessMemory.read()};
  }

  /** Arrays still attached to the inputs' manager: a step that leaks leaves more behind. */
  int liveArrays() {
    return inputs.sample().getManager().getManagedArrays().size();
  }

  private static double heapUsedMb() {
    Runtime rt = Runtime.getRuntime();
    return (rt.totalMemory() - rt.freeMemory()) / (1024.0 * 1024.0);
  }

  /**
   * Records one training step and one inference step with libtorch's profiler, as Chrome trace
   * files {@code java-train.json} and {@code java-infer.json} in {@code dir} ({@code
   * tools/bench/profile_summary.py} tabulates them by operator).
   */
  public void profile(Path dir) throws IOException {
    Files.createDirectories(dir);
    JniUtils.startProfile(false, true, false);
    trainStep();
    JniUtils.stopProfile(dir.resolve("java-train.json").toString());
    JniUtils.startProfile(false, true, false);
    inferStep();
    JniUtils.stopProfile(dir.resolve("java-infer.json").toString());
  }

  /** Times training then inference, as bench_torch.py does, then the memory check when asked. */
  public Report run(String model, int threads, int warmup, int iterations, int memorySteps) {
    ProcessMemory loaded = ProcessMemory.read();
    List<Double> train = timeMs(this::trainStep, warmup, iterations);
    ProcessMemory afterTrain = ProcessMemory.read();
    List<Double> infer = timeMs(this::inferStep, warmup, iterations);
    ProcessMemory afterTiming = ProcessMemory.read();
    UNet2DConditionConfig config = unet.config();
    Shape s = inputs.sample().getShape();
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("runtime", "java-djl");
    v.put("djl", Engine.getDjlVersion());
    v.put("torch", Engine.getInstance().getVersion());
    v.put("model", model);
    v.put(
        "unet_parameters",
        unet.namedParameters().values().stream().mapToLong(p -> p.shape().size()).sum());
    v.put(
        "trainable_parameters", trainable.values().stream().mapToLong(p -> p.shape().size()).sum());
    v.put("train", trainParams.specName());
    v.put("gradient_checkpointing", unet.isGradientCheckpointing());
    v.put("threads", threads);
    v.put("batch", s.get(0));
    v.put("latent", List.of(s.get(1), s.get(2), s.get(3)));
    v.put(
        "context",
        List.of(inputs.encoderHiddenStates().getShape().get(1), config.crossAttentionDim().get(0)));
    v.put("train_step_ms", round(median(train), 2));
    v.put("train_step_ms_all", train.stream().map(x -> round(x, 2)).toList());
    v.put("infer_step_ms", round(median(infer), 2));
    v.put("infer_step_ms_all", infer.stream().map(x -> round(x, 2)).toList());
    v.put("peak_rss_mb", round(afterTiming.peakRssMb(), 1));
    // where the peak was reached: loading, training or inference
    v.put("rss_loaded_mb", round(loaded.rssMb(), 1));
    v.put("peak_rss_loaded_mb", round(loaded.peakRssMb(), 1));
    v.put("peak_rss_train_mb", round(afterTrain.peakRssMb(), 1));
    if (memorySteps > 0) {
      int arraysBefore = liveArrays();
      double heapBefore = heapUsedMb();
      double committedBefore = Runtime.getRuntime().totalMemory() / (1024.0 * 1024.0);
      ProcessMemory[] memory = residentSizeOverSteps(memorySteps);
      v.put("live_arrays_start", arraysBefore);
      v.put("live_arrays_end", liveArrays());
      v.put("jvm_heap_used_start_mb", round(heapBefore, 1));
      v.put("jvm_heap_used_end_mb", round(heapUsedMb(), 1));
      v.put("jvm_heap_committed_start_mb", round(committedBefore, 1));
      v.put(
          "jvm_heap_committed_end_mb",
          round(Runtime.getRuntime().totalMemory() / (1024.0 * 1024.0), 1));
      v.put("memory_steps", memorySteps);
      v.put("rss_start_mb", round(memory[0].rssMb(), 1));
      v.put("rss_end_mb", round(memory[1].rssMb(), 1));
      v.put("peak_rss_after_memory_steps_mb", round(memory[1].peakRssMb(), 1));
    }
    v.put("machine", System.getProperty("os.arch"));
    return new Report(v);
  }

  /** Frees the optimizer's moments. */
  @Override
  public void close() {
    adam.close();
  }

  static double median(List<Double> xs) {
    double[] sorted = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double round(double x, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }
}
