package io.concepterasure.trainer.cli;

import io.concepterasure.trainer.device.DeviceChoice;
import io.concepterasure.trainer.diffusion.InvalidModelFolderException;
import io.concepterasure.trainer.erasure.ErasureOutput;
import io.concepterasure.trainer.erasure.ErasureRequest;
import io.concepterasure.trainer.erasure.ErasureRun;
import io.concepterasure.trainer.erasure.InvalidRequestException;
import io.concepterasure.trainer.erasure.NonFiniteLossException;
import io.concepterasure.trainer.erasure.RequestFields;
import io.concepterasure.trainer.erasure.RequestFile;
import io.concepterasure.trainer.hub.HubClient;
import io.concepterasure.trainer.io.SafetensorsException;
import io.concepterasure.trainer.job.ProgressReporter;
import io.concepterasure.trainer.job.RequestStorage;
import io.concepterasure.trainer.job.TerminationMessage;
import io.concepterasure.trainer.storage.StorageException;
import io.concepterasure.trainer.toy.ShapeJudge;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer erase}: runs an erasure request (a file with the ConceptErasure spec's fields, or
 * the same as flags; flags win) and writes the erased model. Exit codes are the contract with the
 * operator's Job: 0 done, 2 invalid input (do not retry), 3 transient failure (retry resumes).
 */
@Command(
    name = "erase",
    mixinStandardHelpOptions = true,
    description = {
      "Erases concepts from a diffusers Stable Diffusion folder (docs/method.md) and writes the erased model,",
      "evaluation.png and erasure.json (last) to the output folder. Started again with the same request,",
      "it resumes from the state saved every --checkpoint-every iterations.",
      "Exit codes: 0 success, 2 invalid input, 3 transient failure."
    })
public final class EraseCommand implements Callable<Integer> {
  public static final int INVALID_INPUT = 2;
  public static final int TRANSIENT_FAILURE = 3;

  private CommandLine.Model.CommandSpec spec;

  /** The defaults in the help come from the one place that declares them. */
  @CommandLine.Spec
  void spec(CommandLine.Model.CommandSpec spec) {
    this.spec = spec;
    spec.usageMessage()
        .footerHeading("%nDefaults of the request's fields (docs/api.md):%n")
        .footer(RequestFields.defaultsHelp().replace("%", "%%"));
  }

  @Option(
      names = "--request",
      defaultValue = "${env:CE_REQUEST_FILE}",
      description =
          "request file, YAML or JSON, with the ConceptErasure spec's fields (default: $CE_REQUEST_FILE, as the operator's Job sets it)")
  Path requestFile;

  @Option(names = "--model", description = "model.uri: the diffusers folder to erase from")
  String model;

  @Option(names = "--output", description = "output.uri: the folder to write the erased model to")
  String output;

  @Option(
      names = "--concept",
      description =
          "a concept to erase, 'erase' or 'erase=alternative'; repeat for several (replaces the file's)")
  List<String> concepts;

  @Option(names = "--method", description = "method.name: allButOne, esd, conceptAblation")
  String method;

  @Option(names = "--iterations", description = "method.iterations")
  Integer iterations;

  @Option(names = "--learning-rate", description = "method.learningRate")
  Double learningRate;

  @Option(names = "--eta", description = "method.eta")
  Double eta;

  @Option(names = "--lambda", description = "method.lambda")
  Double lambda;

  @Option(names = "--guidance-scale", description = "method.guidanceScale")
  Double guidanceScale;

  @Option(names = "--ddim-steps", description = "method.ddimSteps")
  Integer ddimSteps;

  @Option(
      names = "--parameters",
      description = "method.parameters: crossAttention, crossAttentionKV, nonCrossAttention, all")
  String parameters;

  @Option(names = "--seed", description = "method.seed")
  Long seed;

  @Option(names = "--preserve-prompt", description = "method.preservePrompts; repeat")
  List<String> preservePrompts;

  @Option(names = "--preserve-weight", description = "method.preserveWeight")
  Double preserveWeight;

  @Option(
      names = "--precision",
      description =
          "method.precision: fp32, or mixed (the frozen UNet in float16); default mixed on a"
              + " GPU, fp32 on a CPU")
  String precision;

  @Option(
      names = "--gradient-checkpointing",
      negatable = true,
      description =
          "method.gradientCheckpointing: recompute the resnets and transformer blocks in the"
              + " backward pass (less memory, about one more forward pass per iteration)")
  Boolean gradientCheckpointing;

  @Option(
      names = "--eval-prompt",
      description = "evaluation.prompts (unrelated prompts to check); repeat")
  List<String> evalPrompts;

  @Option(names = "--eval-seed", description = "evaluation.seeds; repeat")
  List<Long> evalSeeds;

  @Option(
      names = "--device",
      defaultValue = "${env:CE_DEVICE:-auto}",
      description =
          "auto (a GPU if one is visible or the Job asked for one, else the CPU), cpu, cuda or cuda:N (default: $CE_DEVICE or auto). A Job that asked for GPUs ($CE_GPUS) and sees none fails with exit 2.")
  String device;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "50",
      description =
          "save the training state every this many iterations, 0 never (default: ${DEFAULT-VALUE})")
  int checkpointEvery;

  @Option(
      names = "--classifier",
      description =
          "the toy world's shape classifier (classifier.safetensors): evaluation reports what it sees before and after")
  Path classifier;

  @Option(
      names = "--stop-after-iterations",
      hidden = true,
      description = "stop as if killed once this many iterations are done (tests resuming)")
  Integer stopAfterIterations;

  /** The process environment (the operator's contract variables); tests give their own. */
  Map<String, String> environment = System.getenv();

  /** How hard to retry the Hugging Face Hub; tests give a faster one. */
  HubClient.Retry hubRetry = HubClient.Retry.DEFAULT;

  /** Where the pod's ServiceAccount token and CA are mounted; tests give their own. */
  Path serviceAccountDir = ProgressReporter.SERVICE_ACCOUNT_DIR;

  @Override
  public Integer call() {
    PrintWriter log = spec.commandLine().getErr();
    PrintWriter info = spec.commandLine().getOut();
    Optional<TerminationMessage> termination = TerminationMessage.fromEnvironment(environment);
    try {
      // First: a GPU Job that sees no GPU fails before anything is read or downloaded.
      DeviceChoice chosen = DeviceChoice.choose(device, environment);
      info.println("device: " + chosen.name());
      ErasureRequest request = request();
      boolean terminal = System.console() != null;
      Optional<ProgressReporter> status =
          ProgressReporter.fromEnvironment(environment, serviceAccountDir, log);
      try (RequestStorage storage = RequestStorage.prepare(request, environment, hubRetry, info)) {
        Map<String, Object> record =
            new ErasureRun(
                    request,
                    checkpointEvery,
                    stopAfterIterations,
                    info,
                    (first, total) -> {
                      BiConsumer<Integer, Map<String, Double>> bar =
                          new TrainingProgress(log, terminal, first, total, System::nanoTime)
                              ::update;
                      return status.map(s -> bar.andThen(s.start(first, total))).orElse(bar);
                    },
                    new TrainerCommand.Version().getVersion()[0],
                    Optional.ofNullable(classifier).map(ShapeJudge::new))
                .stagedAt(storage.modelFolder(), storage.outputFolder())
                .replicatingStateTo(storage.stateReplica())
                .resolvedModelCommit(storage.modelCommit())
                .onDevice(chosen)
                .run();
        storage.publish();
        status.ifPresent(ProgressReporter::finish);
        if (termination.isPresent()) {
          Path outputFolder =
              storage.outputFolder() != null
                  ? storage.outputFolder()
                  : ErasureRun.localFolder("output.uri", request.output().uri());
          writeTermination(
              termination.get(),
              TerminationMessage.success(
                  request.output().uri(), outputFolder.resolve(ErasureOutput.RECORD), record),
              log);
        }
      }
      return 0;
    } catch (DeviceChoice.UnavailableException e) {
      // A GPU Job on the CPU image or on a node without a driver: retrying on it cannot help.
      return failed(termination, log, INVALID_INPUT, "invalid input (device)", e);
    } catch (InvalidRequestException | InvalidModelFolderException | SafetensorsException e) {
      // A malformed or mismatched weights file is as broken on the next try.
      return failed(termination, log, INVALID_INPUT, "invalid input", e);
    } catch (NonFiniteLossException e) {
      // The same request and seed fail the same way again: not worth a retry.
      return failed(termination, log, INVALID_INPUT, "training diverged", e);
    } catch (ErasureRun.Interrupted e) {
      return failed(termination, log, TRANSIENT_FAILURE, "interrupted", e);
    } catch (StorageException e) {
      // No such bucket, access denied, an unusable location: retrying cannot help.
      return e.invalidInput()
          ? failed(termination, log, INVALID_INPUT, "invalid input (storage)", e)
          : failed(termination, log, TRANSIENT_FAILURE, "transient failure (storage)", e);
    } catch (IOException | UncheckedIOException e) {
      return failed(termination, log, TRANSIENT_FAILURE, "transient failure", e);
    }
  }

  /**
   * Logs the failure and leaves it as the termination message (status.failure.message on exit 2).
   */
  private static int failed(
      Optional<TerminationMessage> termination,
      PrintWriter log,
      int code,
      String reason,
      Exception e) {
    log.println(reason + ": " + e.getMessage());
    termination.ifPresent(
        t -> writeTermination(t, TerminationMessage.failure(reason, e.getMessage()), log));
    return code;
  }

  private static void writeTermination(
      TerminationMessage termination, String message, PrintWriter log) {
    termination
        .write(message)
        .ifPresent(
            e ->
                log.println(
                    "warning: cannot write the termination message to "
                        + termination.file()
                        + ": "
                        + e.getMessage()));
  }

  /** The request file (or an empty one), with the flags given on top, parsed once. */
  private ErasureRequest request() throws IOException {
    RequestFile r = requestFile != null ? RequestFile.read(requestFile) : new RequestFile();
    if (model != null) {
      r.model = new RequestFile.Location(model);
    }
    if (output != null) {
      r.output = new RequestFile.Location(output);
    }
    if (concepts != null) {
      List<RequestFile.Concept> list = new ArrayList<>();
      for (String c : concepts) {
        int eq = c.indexOf('=');
        list.add(
            eq < 0
                ? new RequestFile.Concept(c, null)
                : new RequestFile.Concept(c.substring(0, eq), c.substring(eq + 1)));
      }
      r.concepts = list;
    }
    RequestFile.Method m = r.method();
    m.name = method != null ? method : m.name;
    m.iterations = iterations != null ? iterations : m.iterations;
    m.learningRate = learningRate != null ? learningRate : m.learningRate;
    m.eta = eta != null ? eta : m.eta;
    m.lambda = lambda != null ? lambda : m.lambda;
    m.guidanceScale = guidanceScale != null ? guidanceScale : m.guidanceScale;
    m.ddimSteps = ddimSteps != null ? ddimSteps : m.ddimSteps;
    m.parameters = parameters != null ? parameters : m.parameters;
    m.seed = seed != null ? seed : m.seed;
    m.preservePrompts = preservePrompts != null ? preservePrompts : m.preservePrompts;
    m.preserveWeight = preserveWeight != null ? preserveWeight : m.preserveWeight;
    m.precision = precision != null ? precision : m.precision;
    m.gradientCheckpointing =
        gradientCheckpointing != null ? gradientCheckpointing : m.gradientCheckpointing;
    if (evalPrompts != null) {
      r.evaluation().prompts = evalPrompts;
    }
    if (evalSeeds != null) {
      r.evaluation().seeds = evalSeeds;
    }
    return r.toRequest();
  }
}
