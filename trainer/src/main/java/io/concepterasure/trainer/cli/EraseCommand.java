package io.concepterasure.trainer.cli;

import io.concepterasure.trainer.diffusion.InvalidModelFolderException;
import io.concepterasure.trainer.erasure.ErasureRequest;
import io.concepterasure.trainer.erasure.ErasureRun;
import io.concepterasure.trainer.erasure.InvalidRequestException;
import io.concepterasure.trainer.erasure.NonFiniteLossException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
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

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--request", description = "request file, YAML or JSON, with the ConceptErasure spec's fields")
  Path requestFile;

  @Option(names = "--model", description = "model.uri: the diffusers folder to erase from")
  String model;

  @Option(names = "--output", description = "output.uri: the folder to write the erased model to")
  String output;

  @Option(names = "--concept", description = "a concept to erase, 'erase' or 'erase=alternative'; repeat for several (replaces the file's)")
  List<String> concepts;

  @Option(names = "--method", description = "method.name: allButOne (default), esd, conceptAblation")
  String method;

  @Option(names = "--iterations", description = "method.iterations (default 400)")
  Integer iterations;

  @Option(names = "--learning-rate", description = "method.learningRate (default 1e-5)")
  Double learningRate;

  @Option(names = "--eta", description = "method.eta (default 1)")
  Double eta;

  @Option(names = "--lambda", description = "method.lambda (default 1)")
  Double lambda;

  @Option(names = "--guidance-scale", description = "method.guidanceScale (default 3)")
  Double guidanceScale;

  @Option(names = "--ddim-steps", description = "method.ddimSteps (default 50)")
  Integer ddimSteps;

  @Option(names = "--parameters", description = "method.parameters: crossAttention (default), crossAttentionKV, nonCrossAttention, all")
  String parameters;

  @Option(names = "--seed", description = "method.seed (default 0)")
  Long seed;

  @Option(names = "--preserve-prompt", description = "method.preservePrompts; repeat")
  List<String> preservePrompts;

  @Option(names = "--preserve-weight", description = "method.preserveWeight (default 1)")
  Double preserveWeight;

  @Option(names = "--eval-prompt", description = "evaluation.prompts (unrelated prompts to check); repeat")
  List<String> evalPrompts;

  @Option(names = "--eval-seed", description = "evaluation.seeds; repeat (default 0 and 1)")
  List<Long> evalSeeds;

  @Option(names = "--checkpoint-every", defaultValue = "50",
      description = "save the training state every this many iterations, 0 never (default: ${DEFAULT-VALUE})")
  int checkpointEvery;

  @Option(names = "--classifier", description = "the toy world's shape classifier (classifier.safetensors): evaluation reports what it sees before and after")
  Path classifier;

  @Option(names = "--stop-after-iterations", hidden = true,
      description = "stop as if killed once this many iterations are done (tests resuming)")
  Integer stopAfterIterations;

  @Override
  public Integer call() {
    PrintWriter log = spec.commandLine().getErr();
    PrintWriter info = spec.commandLine().getOut();
    try {
      ErasureRequest request = request().withDefaults().validate();
      boolean terminal = System.console() != null;
      new ErasureRun(request, checkpointEvery, stopAfterIterations, info,
          (first, total) -> new TrainingProgress(log, terminal, first, total, System::nanoTime)::update,
          new TrainerCommand.Version().getVersion()[0], classifier).run();
      return 0;
    } catch (InvalidRequestException | InvalidModelFolderException e) {
      log.println("invalid input: " + e.getMessage());
      return INVALID_INPUT;
    } catch (NonFiniteLossException e) {
      // The same request and seed fail the same way again: not worth a retry.
      log.println("training diverged: " + e.getMessage());
      return INVALID_INPUT;
    } catch (ErasureRun.Interrupted e) {
      log.println("interrupted: " + e.getMessage());
      return TRANSIENT_FAILURE;
    } catch (IOException | UncheckedIOException e) {
      log.println("transient failure: " + e.getMessage());
      return TRANSIENT_FAILURE;
    }
  }

  private ErasureRequest request() throws IOException {
    ErasureRequest r = requestFile != null ? ErasureRequest.read(requestFile) : new ErasureRequest();
    if (model != null) {
      r.model = new ErasureRequest.Location();
      r.model.uri = model;
    }
    if (output != null) {
      r.output = new ErasureRequest.Location();
      r.output.uri = output;
    }
    if (concepts != null) {
      List<ErasureRequest.Concept> list = new ArrayList<>();
      for (String c : concepts) {
        int eq = c.indexOf('=');
        list.add(eq < 0 ? new ErasureRequest.Concept(c, null) : new ErasureRequest.Concept(c.substring(0, eq), c.substring(eq + 1)));
      }
      r.concepts = list;
    }
    ErasureRequest.Method m = r.method == null ? new ErasureRequest.Method() : r.method;
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
    r.method = m;
    if (evalPrompts != null || evalSeeds != null) {
      ErasureRequest.Evaluation e = r.evaluation == null ? new ErasureRequest.Evaluation() : r.evaluation;
      e.prompts = evalPrompts != null ? evalPrompts : e.prompts;
      e.seeds = evalSeeds != null ? evalSeeds : e.seeds;
      r.evaluation = e;
    }
    return r;
  }
}
