package io.concepterasure.trainer.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.bench.UNetBenchmark;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.erasure.TrainableParameterSet;
import io.concepterasure.trainer.io.StateDictLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer bench}: the Java side of the Java-vs-PyTorch UNet benchmark ({@code
 * tools/bench/unet-vs-torch.sh} runs both); prints one JSON line with the keys of {@code
 * tools/parity/bench_torch.py}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Times one UNet training step (forward, MSE, backward, Adam) and one guided inference step,",
      "and prints the times, the peak resident size and, with --steps-for-memory, the resident size",
      "before and after that many training steps, as one JSON line."
    })
public final class BenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description = "diffusers Stable Diffusion folder (reads unet/) or a UNet folder")
  Path model;

  @Option(
      names = "--inputs",
      description =
          "safetensors file with sample, encoder_hidden_states, target, timestep "
              + "(bench_torch.py --save-inputs); default: seeded random inputs of the model's sample size")
  Path inputs;

  @Option(names = "--threads", description = "intra-op threads (default: the available processors)")
  Integer threads;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      description = "untimed steps first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--iterations",
      defaultValue = "5",
      description = "timed steps (default: ${DEFAULT-VALUE})")
  int iterations;

  @Option(
      names = "--train-params",
      defaultValue = "crossAttention",
      description =
          "parameters Adam updates: crossAttention, crossAttentionKV, nonCrossAttention, all "
              + "(default: ${DEFAULT-VALUE})")
  String trainParams;

  @Option(
      names = "--steps-for-memory",
      defaultValue = "0",
      description =
          "training steps after the timing, reporting the resident size before and after (default: none)")
  int memorySteps;

  @Option(
      names = "--batch",
      defaultValue = "1",
      description = "training batch without --inputs (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(
      names = "--lr",
      defaultValue = "1e-5",
      description = "Adam learning rate (default: ${DEFAULT-VALUE})")
  float learningRate;

  @Option(
      names = "--frozen-fp16",
      description =
          "first, the frozen UNet of method.precision mixed: load it in float16, time --iterations"
              + " guided inference steps and compare its prediction with fp32's on the same inputs")
  boolean frozenFp16;

  @Option(
      names = "--gradient-checkpointing",
      description =
          "recompute the transformer blocks and resnets in the backward pass instead of keeping"
              + " their intermediates (diffusers' enable_gradient_checkpointing)")
  boolean gradientCheckpointing;

  @Option(
      names = "--profile",
      description =
          "after the timing, write libtorch profiler traces of one training and one inference step to DIR")
  Path profile;

  @Override
  public Integer call() throws Exception {
    TrainableParameterSet parameterSet;
    try {
      parameterSet = TrainableParameterSet.fromSpecName(trainParams);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--train-params: " + e.getMessage());
    }
    if (warmup < 0 || iterations < 1 || memorySteps < 0 || batch < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--warmup, --steps-for-memory must be >= 0 and --iterations, --batch >= 1");
    }
    if (threads != null && threads < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--threads must be at least 1, got " + threads);
    }
    Path unetDir =
        Files.isRegularFile(model.resolve("unet/config.json")) ? model.resolve("unet") : model;
    if (!Files.isRegularFile(unetDir.resolve("config.json"))) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--model: neither "
              + model.resolve("unet/config.json")
              + " nor "
              + model.resolve("config.json")
              + " exists");
    }
    if (inputs != null && !Files.isRegularFile(inputs)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--inputs: no such file: " + inputs);
    }
    int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    // Read when the PyTorch engine starts; later only the intra-op count can still change.
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(n));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Engine engine = Engine.getEngine("PyTorch");
    if (JniUtils.getNumThreads() != n) {
      JniUtils.setNumThreads(n);
    }
    UNet2DConditionConfig config = UNet2DConditionConfig.read(unetDir.resolve("config.json"));
    try (NDManager manager = engine.newBaseManager()) {
      UNet2DConditionModel unet = new UNet2DConditionModel(config);
      unet.setGradientCheckpointing(gradientCheckpointing);
      StateDictLoader.load(
          unet, unetDir.resolve("diffusion_pytorch_model.safetensors"), manager, DataType.FLOAT32);
      UNetBenchmark.Inputs in =
          inputs != null
              ? UNetBenchmark.Inputs.read(inputs, manager)
              : UNetBenchmark.Inputs.random(
                  config, batch, sampleSize(unetDir.resolve("config.json")), manager, 2);
      try (UNetBenchmark bench = new UNetBenchmark(unet, in, parameterSet, learningRate)) {
        Map<String, Object> fp16 =
            frozenFp16
                ? bench.frozenFp16(
                    unetDir.resolve("diffusion_pytorch_model.safetensors"), iterations)
                : Map.of();
        UNetBenchmark.Report report =
            bench.run(model.toString(), JniUtils.getNumThreads(), warmup, iterations, memorySteps);
        if (profile != null) {
          bench.profile(profile);
        }
        Map<String, Object> values = new LinkedHashMap<>(report.values());
        values.putAll(fp16);
        spec.commandLine().getOut().println(JSON.writeValueAsString(values));
        spec.commandLine().getOut().flush();
      }
    }
    return 0;
  }

  private static long sampleSize(Path configJson) throws IOException {
    JsonNode size = JSON.readTree(configJson.toFile()).path("sample_size");
    if (size.isInt()) {
      return size.asInt();
    }
    if (size.isArray() && size.size() == 2 && size.get(0).asInt() == size.get(1).asInt()) {
      return size.get(0).asInt();
    }
    throw new IllegalArgumentException(
        configJson + ": sample_size must be a number (or a square [h, w]), got " + size);
  }
}
