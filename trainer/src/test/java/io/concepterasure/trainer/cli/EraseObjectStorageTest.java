package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.erasure.ErasureOutput;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.job.RequestStorage;
import io.concepterasure.trainer.job.TerminationMessage;
import io.concepterasure.trainer.storage.ObjectStore;
import io.concepterasure.trainer.storage.S3ProxyServer;
import io.concepterasure.trainer.storage.S3Settings;
import io.concepterasure.trainer.storage.StorageUri;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code trainer erase} as the operator's Job runs it: the request file, an s3:// model and an
 * s3:// output on a real S3 server (S3Proxy), credentials as mounted Secret files, the result in
 * the termination message.
 */
class EraseObjectStorageTest {
  private static final String UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static S3ProxyServer server;

  @TempDir Path tmp;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void start() throws Exception {
    server = new S3ProxyServer();
    server.createBucket("models");
    server.createBucket("erased");
    try (ObjectStore store =
        ObjectStore.open(
            StorageUri.parse("s3://models/sd1-tiny"),
            server.settings(S3Settings.MIN_PART_SIZE),
            Path.of("/nonexistent"))) {
      store.uploadFolder(ParityFixture.root().resolve("sd1-tiny"), "");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private Map<String, String> environment(String endpoint) throws Exception {
    Path credentials = Files.createDirectories(tmp.resolve("credentials"));
    Files.writeString(credentials.resolve(S3Settings.ACCESS_KEY_ID), S3ProxyServer.ACCESS_KEY);
    Files.writeString(credentials.resolve(S3Settings.SECRET_ACCESS_KEY), server.secretKey);
    Files.writeString(credentials.resolve(S3Settings.ENDPOINT_URL), endpoint);
    return Map.of(
        RequestStorage.ENV_SCRATCH_DIR, Files.createDirectories(tmp.resolve("scratch")).toString(),
        RequestStorage.ENV_MODEL_CREDENTIALS_DIR, credentials.toString(),
        RequestStorage.ENV_OUTPUT_CREDENTIALS_DIR, credentials.toString(),
        TerminationMessage.ENV_PATH, tmp.resolve("termination-log").toString());
  }

  private int erase(Map<String, String> environment, String model, String output) throws Exception {
    return erase(environment, model, output, "--checkpoint-every", "0");
  }

  private int erase(Map<String, String> environment, String model, String output, String... flags)
      throws Exception {
    // As TrainerContract.requestYaml writes it: the whole spec, Job-only fields included.
    Path request =
        Files.writeString(
            tmp.resolve("request.yaml"),
            """
        model:
          uri: %s
          credentialsSecretRef: {name: s3}
        concepts:
          - erase: a photo of a cat
            alternative: a photo of a cow
        method: {iterations: 2, learningRate: 1.0e-3, ddimSteps: 4, seed: 5}
        output:
          uri: %s
          credentialsSecretRef: {name: s3}
        evaluation: {prompts: [a photo of a house], seeds: [3]}
        resources: {gpus: 0, memory: 4Gi}
        backoffLimit: 2
        """
                .formatted(model, output));
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    EraseCommand erase = cli.getSubcommands().get("erase").getCommand();
    erase.environment = environment;
    erase.serviceAccountDir = tmp.resolve("no-service-account");
    List<String> args = new ArrayList<>(List.of("erase", "--request", request.toString()));
    args.addAll(List.of(flags));
    return cli.execute(args.toArray(String[]::new));
  }

  @Test
  void readsTheModelFromS3AndUploadsTheErasedModelWithItsRecordLast() throws Exception {
    Map<String, String> env = environment(server.endpoint().toString());
    int code = erase(env, "s3://models/sd1-tiny", "s3://erased/runs/1");
    assertThat(code).as(err.toString()).isZero();

    Path back = tmp.resolve("back");
    try (ObjectStore store =
        ObjectStore.open(
            StorageUri.parse("s3://erased/runs/1"),
            server.settings(S3Settings.MIN_PART_SIZE),
            Path.of("/nonexistent"))) {
      assertThat(store.list(""))
          .contains(
              UNET_WEIGHTS,
              ErasureOutput.RECORD,
              ObjectStore.MODEL_INDEX,
              "unet/config.json",
              "vae/diffusion_pytorch_model.safetensors",
              "evaluation.png")
          .noneMatch(name -> name.startsWith(".erasure-"));
      store.downloadFolder("", back);
    }
    Path base = ParityFixture.root().resolve("sd1-tiny");
    assertThat(ErasureOutput.sha256(back.resolve(UNET_WEIGHTS)))
        .isNotEqualTo(ErasureOutput.sha256(base.resolve(UNET_WEIGHTS)));
    assertThat(ErasureOutput.sha256(back.resolve("vae/diffusion_pytorch_model.safetensors")))
        .isEqualTo(ErasureOutput.sha256(base.resolve("vae/diffusion_pytorch_model.safetensors")));

    // erasure.json records the request's locations, not the scratch folders they were staged in.
    JsonNode record = JSON.readTree(back.resolve(ErasureOutput.RECORD).toFile());
    assertThat(record.at("/request/model/uri").asText()).isEqualTo("s3://models/sd1-tiny");
    assertThat(record.at("/request/output/uri").asText()).isEqualTo("s3://erased/runs/1");
    assertThat(record.at("/request/method/iterations").asInt()).isEqualTo(2);

    JsonNode message = JSON.readTree(tmp.resolve("termination-log").toFile());
    assertThat(message.get("outputUri").asText()).isEqualTo("s3://erased/runs/1");
    assertThat(message.get("erasureJsonSha256").asText())
        .isEqualTo(ErasureOutput.sha256(back.resolve(ErasureOutput.RECORD)));
    assertThat(message.at("/metrics/finalLoss").asDouble())
        .isEqualTo(record.at("/finalLosses/loss").asDouble());
    assertThat(message.at("/metrics/iterations").asDouble()).isEqualTo(2.0);
    assertThat(Files.readString(tmp.resolve("termination-log")) + out + err)
        .doesNotContain(server.secretKey);

    // The same request again: recognised as done from the stored erasure.json, nothing trained or
    // uploaded.
    out.getBuffer().setLength(0);
    assertThat(erase(env, "s3://models/sd1-tiny", "s3://erased/runs/1"))
        .as(err.toString())
        .isZero();
    assertThat(out.toString()).contains("already holds this erasure").doesNotContain("uploading");
  }

  @Test
  void aMissingBucketIsInvalidInputWithItsReasonInTheTerminationMessage() throws Exception {
    int code =
        erase(
            environment(server.endpoint().toString()),
            "s3://no-such-bucket/model",
            "s3://erased/runs/2");
    assertThat(code).as(err.toString()).isEqualTo(EraseCommand.INVALID_INPUT);
    String message = Files.readString(tmp.resolve("termination-log"));
    assertThat(message)
        .startsWith("invalid input (storage): ")
        .contains("s3://no-such-bucket/model")
        .doesNotContain("\n")
        .doesNotContain(server.secretKey);
  }

  @Test
  void anUnreachableStoreIsTransient() throws Exception {
    int code =
        erase(environment("http://127.0.0.1:1"), "s3://models/sd1-tiny", "s3://erased/runs/3");
    assertThat(code).as(err.toString()).isEqualTo(EraseCommand.TRANSIENT_FAILURE);
    assertThat(Files.readString(tmp.resolve("termination-log")))
        .startsWith("transient failure (storage): ");
  }

  /** A pod on another node: same Secrets and request, an empty scratch volume of its own. */
  private Map<String, String> newPod(Map<String, String> environment, String name)
      throws Exception {
    Map<String, String> env = new HashMap<>(environment);
    env.put(
        RequestStorage.ENV_SCRATCH_DIR,
        Files.createDirectories(tmp.resolve("scratch-" + name)).toString());
    return env;
  }

  private static ObjectStore store(String uri) throws Exception {
    return ObjectStore.open(
        StorageUri.parse(uri), server.settings(S3Settings.MIN_PART_SIZE), Path.of("/nonexistent"));
  }

  private Map<String, float[]> unetWeights(String uri) throws Exception {
    Path file = Files.createTempFile(tmp, "unet", ".safetensors");
    try (ObjectStore store = store(uri)) {
      store.download(UNET_WEIGHTS, file);
    }
    Map<String, float[]> weights = new HashMap<>();
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsReader reader = SafetensorsReader.open(file)) {
      for (String name : reader.names()) {
        weights.put(name, reader.read(name, manager, DataType.FLOAT32).toFloatArray());
      }
    }
    return weights;
  }

  @Test
  void aPodKilledMidRunIsResumedByTheNextPodFromTheStateUnderTheOutput() throws Exception {
    Map<String, String> env = environment(server.endpoint().toString());
    String[] schedule = {"--iterations", "6", "--checkpoint-every", "2"};
    assertThat(
            erase(
                newPod(env, "straight"), "s3://models/sd1-tiny", "s3://erased/straight", schedule))
        .as(err.toString())
        .isZero();

    // The first pod dies after iteration 3 (its last saved state: after iteration 2).
    String output = "s3://erased/preempted";
    List<String> killed = new ArrayList<>(List.of(schedule));
    killed.addAll(List.of("--stop-after-iterations", "3"));
    assertThat(
            erase(
                newPod(env, "first"),
                "s3://models/sd1-tiny",
                output,
                killed.toArray(String[]::new)))
        .isEqualTo(EraseCommand.TRANSIENT_FAILURE);
    try (ObjectStore store = store(output)) {
      assertThat(store.list(""))
          .containsExactly(
              ErasureOutput.STATE + "/request.json", ErasureOutput.STATE + "/state.safetensors");
    }

    // The Job's next pod: nothing in its scratch volume, the state comes from the output.
    out.getBuffer().setLength(0);
    assertThat(erase(newPod(env, "second"), "s3://models/sd1-tiny", output, schedule))
        .as(err.toString())
        .isZero();
    assertThat(out.toString()).contains("resuming from the state saved after iteration 2");
    try (ObjectStore store = store(output)) {
      assertThat(store.list(""))
          .contains(ErasureOutput.RECORD)
          .noneMatch(n -> n.startsWith(".erasure-"));
      Path record = tmp.resolve("resumed-erasure.json");
      store.download(ErasureOutput.RECORD, record);
      JsonNode json = JSON.readTree(record.toFile());
      assertThat(json.get("resumedFromIteration").asInt()).isEqualTo(2);
      assertThat(json.get("outputFiles").fieldNames())
          .toIterable()
          .noneMatch(n -> n.startsWith(".erasure-"));
    }
    Map<String, float[]> expected = unetWeights("s3://erased/straight");
    Map<String, float[]> actual = unetWeights(output);
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    EraseCommandTest.assertWeightsWithin(expected, actual, 1e-6f);
  }

  @Test
  void theSavedStateOfAnotherRequestIsRefusedAndKept() throws Exception {
    Map<String, String> env = environment(server.endpoint().toString());
    String output = "s3://erased/shared";
    assertThat(
            erase(
                newPod(env, "a"),
                "s3://models/sd1-tiny",
                output,
                "--iterations",
                "4",
                "--checkpoint-every",
                "1",
                "--stop-after-iterations",
                "2"))
        .isEqualTo(EraseCommand.TRANSIENT_FAILURE);

    err.getBuffer().setLength(0);
    assertThat(
            erase(
                newPod(env, "b"),
                "s3://models/sd1-tiny",
                output,
                "--iterations",
                "5",
                "--checkpoint-every",
                "1"))
        .isEqualTo(EraseCommand.INVALID_INPUT);
    String message = Files.readString(tmp.resolve("termination-log"));
    assertThat(message)
        .startsWith(
            "invalid input: output.uri "
                + output
                + " holds the saved training state of another request")
        .doesNotContain("\n");
    try (ObjectStore store = store(output)) {
      assertThat(store.list(""))
          .containsExactly(
              ErasureOutput.STATE + "/request.json", ErasureOutput.STATE + "/state.safetensors");
    }
  }
}
