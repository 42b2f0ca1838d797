package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.erasure.ErasureOutput;
import io.concepterasure.trainer.hub.HubClient;
import io.concepterasure.trainer.hub.HubServer;
import io.concepterasure.trainer.hub.HubSettings;
import io.concepterasure.trainer.job.RequestStorage;
import io.concepterasure.trainer.job.TerminationMessage;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code erase} and {@code generate} with an {@code hf://} model, as the operator's Job runs them:
 * the token and endpoint from the model's credentials Secret, against a stand-in for the Hub on
 * loopback ({@link HubServer}) serving the toy model, with its error answers.
 */
class HubModelCommandsTest {
  private static final Path TOY =
      Path.of(System.getProperty("repo.root", "..")).resolve("examples/models/toy-shapes");
  private static final String REPO = "concepterasure/toy-shapes";
  private static final String COMMIT = "89abcdef0123456789abcdef0123456789abcdef";
  private static final String TOKEN = "hf_test_token_5678";
  private static final HubClient.Retry FAST =
      new HubClient.Retry(3, Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofSeconds(5));
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private HubServer hub;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void startHub() throws Exception {
    hub = new HubServer(REPO, COMMIT).serve(TOY).tag("v1");
    hub.token = TOKEN;
  }

  @AfterEach
  void stopHub() {
    hub.close();
  }

  /** The model Secret's files (HF_TOKEN, HF_ENDPOINT) and the contract's variables. */
  private Map<String, String> environment(String token) throws Exception {
    Path secret = Files.createDirectories(tmp.resolve("model-secret"));
    Files.writeString(secret.resolve(HubSettings.ENDPOINT), hub.endpoint().toString());
    Files.deleteIfExists(secret.resolve(HubSettings.TOKEN));
    if (token != null) {
      Files.writeString(secret.resolve(HubSettings.TOKEN), token);
    }
    Map<String, String> env = new HashMap<>();
    env.put(RequestStorage.ENV_MODEL_CREDENTIALS_DIR, secret.toString());
    env.put(
        RequestStorage.ENV_SCRATCH_DIR, Files.createDirectories(tmp.resolve("scratch")).toString());
    env.put(TerminationMessage.ENV_PATH, tmp.resolve("termination-log").toString());
    return env;
  }

  private int erase(Map<String, String> environment, String model, Path output) throws Exception {
    return erase(environment, model, output, "--checkpoint-every", "0");
  }

  private int erase(Map<String, String> environment, String model, Path output, String... flags)
      throws Exception {
    Path request =
        Files.writeString(
            tmp.resolve("request.yaml"),
            """
            model:
              uri: %s
              credentialsSecretRef: {name: hf}
            concepts: [{erase: a red circle, alternative: a blue square}]
            method: {iterations: 2, learningRate: 1.0e-3, ddimSteps: 3, seed: 1}
            output: {uri: %s}
            evaluation: {prompts: [a green triangle], seeds: [0]}
            """
                .formatted(model, output));
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    EraseCommand erase = cli.getSubcommands().get("erase").getCommand();
    erase.environment = environment;
    erase.hubRetry = FAST;
    erase.serviceAccountDir = tmp.resolve("no-service-account");
    List<String> args = new ArrayList<>(List.of("erase", "--request", request.toString()));
    args.addAll(List.of(flags));
    return cli.execute(args.toArray(String[]::new));
  }

  private String termination() throws Exception {
    return Files.readString(tmp.resolve("termination-log"));
  }

  @Test
  void eraseReadsTheModelFromTheHubAndRecordsTheResolvedCommit() throws Exception {
    Path output = tmp.resolve("erased");
    assertThat(erase(environment(TOKEN), "hf://" + REPO + "@v1", output))
        .as(err.toString())
        .isZero();
    JsonNode record = JSON.readTree(output.resolve(ErasureOutput.RECORD).toFile());
    assertThat(record.get("modelCommit").asText()).isEqualTo(COMMIT);
    assertThat(record.at("/request/model/uri").asText()).isEqualTo("hf://" + REPO + "@v1");
    // The base model's files, as downloaded, are those of the toy model.
    assertThat(
            record.get("baseModelFiles").get("unet/diffusion_pytorch_model.safetensors").asText())
        .isEqualTo(ErasureOutput.sha256(TOY.resolve("unet/diffusion_pytorch_model.safetensors")));
    assertThat(out.toString() + err).contains("resolved hf://" + REPO + "@v1 to commit " + COMMIT);
    assertThat(out.toString() + err + termination()).doesNotContain(TOKEN);
    // Every file by the resolved commit, the token only to the Hub.
    assertThat(hub.requests)
        .filteredOn(r -> r.startsWith("CDN"))
        .allMatch(r -> r.contains("auth=false"));
  }

  @Test
  void aResumedRunReadsTheModelAtTheCommitItsSavedStateWasTrainedOn() throws Exception {
    Path output = tmp.resolve("pinned");
    assertThat(
            erase(
                environment(TOKEN),
                "hf://" + REPO,
                output,
                "--iterations",
                "3",
                "--checkpoint-every",
                "1",
                "--stop-after-iterations",
                "2"))
        .isEqualTo(EraseCommand.TRANSIENT_FAILURE);
    assertThat(
            JSON.readTree(output.resolve(ErasureOutput.STATE + "/model.json").toFile())
                .get("commit")
                .asText())
        .isEqualTo(COMMIT);

    // The next pod: "main" may have moved; the model is asked for at the saved commit.
    hub.requests.clear();
    assertThat(erase(environment(TOKEN), "hf://" + REPO, output, "--iterations", "3"))
        .as(err.toString())
        .isZero();
    assertThat(hub.requests)
        .anyMatch(r -> r.startsWith("API info " + COMMIT))
        .noneMatch(r -> r.startsWith("API info main"));
    JsonNode record = JSON.readTree(output.resolve(ErasureOutput.RECORD).toFile());
    assertThat(record.get("resumedFromIteration").asInt()).isEqualTo(2);
    assertThat(record.get("modelCommit").asText()).isEqualTo(COMMIT);
    assertThat(record.at("/request/model/uri").asText()).isEqualTo("hf://" + REPO);
  }

  @Test
  void generateReadsTheModelFromTheHub() throws Exception {
    Map<String, String> env = environment(null);
    env.put(HubSettings.TOKEN, TOKEN); // a workstation: the token from the environment
    Path png = tmp.resolve("grid.png");
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    GenerateCommand generate = cli.getSubcommands().get("generate").getCommand();
    generate.environment = env;
    generate.hubRetry = FAST;
    int code =
        cli.execute(
            "generate",
            "--model",
            "hf://" + REPO,
            "--prompt",
            "a red circle",
            "--steps",
            "2",
            "--output",
            png.toString());
    assertThat(code).as(err.toString()).isZero();
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isPositive();
    // Nothing is left on the scratch volume.
    try (var files = Files.list(tmp.resolve("scratch"))) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void unauthorizedForbiddenAndNotFoundAreInvalidInputThatSayWhich() throws Exception {
    Path output = tmp.resolve("never");
    assertThat(erase(environment(null), "hf://" + REPO, output))
        .isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(termination()).startsWith("invalid input (storage): ").contains("HTTP 401");

    assertThat(erase(environment("hf_wrong"), "hf://" + REPO, output))
        .isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(termination()).contains("HTTP 401").doesNotContain("hf_wrong");

    assertThat(erase(environment(TOKEN), "hf://someone/else", output))
        .isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(termination()).contains("HTTP 404").contains("no such model repository");

    hub.gated = true;
    assertThat(erase(environment(TOKEN), "hf://" + REPO, output))
        .isEqualTo(EraseCommand.INVALID_INPUT);
    assertThat(termination()).contains("HTTP 403").doesNotContain("\n").doesNotContain(TOKEN);
    assertThat(output).doesNotExist();
  }

  @Test
  void tooManyRequestsAndServerErrorsAreRetriedThenTransient() throws Exception {
    // Retried: one 429 and one 503, then the model comes.
    hub.fail("info", new HubServer.Status(429, null, "0"), new HubServer.Status(503, null, null));
    Path output = tmp.resolve("after-retries");
    assertThat(erase(environment(TOKEN), "hf://" + REPO, output)).as(err.toString()).isZero();
    assertThat(output.resolve(ErasureOutput.RECORD)).exists();

    // A Hub that keeps failing: exit 3, for the Job to retry later.
    HubServer.Status down = new HubServer.Status(502, null, null);
    hub.fail("unet/diffusion_pytorch_model.safetensors", down, down, down, down);
    assertThat(erase(environment(TOKEN), "hf://" + REPO, tmp.resolve("down")))
        .isEqualTo(EraseCommand.TRANSIENT_FAILURE);
    assertThat(termination())
        .startsWith("transient failure (storage): ")
        .contains("HTTP 502")
        .contains("gave up after 3 attempts");
    assertThat(tmp.resolve("down")).doesNotExist();
    assertThat(List.of(out.toString(), err.toString())).noneMatch(s -> s.contains(TOKEN));
  }
}
