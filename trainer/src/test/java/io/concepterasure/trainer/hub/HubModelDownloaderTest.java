package io.concepterasure.trainer.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import io.concepterasure.trainer.storage.StorageException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hf:// downloads against a stand-in for the Hub on loopback ({@link HubServer}) serving the toy
 * model (examples/models/toy-shapes) in the Hub's URL layout, with the files a real SD repository
 * also holds beside it (pickled weights, fp16 variants, a whole-model checkpoint, ONNX), and with
 * the Hub's error answers, a cut connection, a stall and a corrupted body.
 */
class HubModelDownloaderTest {
  private static final Path REPO_ROOT = Path.of(System.getProperty("repo.root", ".."));
  private static final Path TOY = REPO_ROOT.resolve("examples/models/toy-shapes");
  private static final String REPO = "concepterasure/toy-shapes";
  private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
  private static final String UNET = "unet/diffusion_pytorch_model.safetensors";
  private static final HubClient.Retry FAST =
      new HubClient.Retry(4, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(5));

  @TempDir Path tmp;
  private final StringWriter log = new StringWriter();
  private HubServer hub;

  private HubServer toyHub() throws Exception {
    hub = new HubServer(REPO, COMMIT).serve(TOY);
    // What a published SD repository has beside the pipeline's files; none of it may be fetched.
    hub.files.put("unet/diffusion_pytorch_model.bin", new byte[] {(byte) 0x80, 2, 'c', 'o', 's'});
    hub.files.put("unet/diffusion_pytorch_model.fp16.safetensors", new byte[64]);
    hub.files.put("text_encoder/flax_model.msgpack", new byte[32]);
    hub.files.put("v1-5-pruned-emaonly.ckpt", new byte[128]);
    hub.files.put("onnx/unet/model.onnx", new byte[16]);
    hub.files.put("README.md", "# toy\n".getBytes());
    hub.files.put(".gitattributes", "*.safetensors filter=lfs\n".getBytes());
    return hub;
  }

  @AfterEach
  void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  private HubModelDownloader downloader(HubSettings settings) {
    return new HubModelDownloader(
        new HubClient(settings, FAST, new PrintWriter(log, true)), new PrintWriter(log, true));
  }

  private HubModelDownloader downloader() {
    return downloader(new HubSettings(hub.endpoint(), null));
  }

  private static final HubModelDownloader.SpaceCheck ANY_SPACE = (bytes, what) -> {};

  @Test
  void downloadsThePipelineAtTheResolvedCommitVerifiedAndNothingElse() throws Exception {
    toyHub().token = "hf_secret_token_1234";
    Path folder = tmp.resolve("model");
    HubModelDownloader.Result result =
        downloader(new HubSettings(hub.endpoint(), "hf_secret_token_1234"))
            .download(REPO, "main", null, folder, ANY_SPACE);

    assertThat(result.snapshot().commit()).isEqualTo(COMMIT);
    assertThat(result.snapshot().uri()).isEqualTo("hf://" + REPO + "@main");
    assertThat(tree(folder)).isEqualTo(toyPipeline());
    assertThat(result.bytes()).isEqualTo(size(folder));
    DiffusersModelLayout.open(folder); // a complete pipeline
    // Only the pipeline's files were asked for, every one by the resolved commit.
    List<String> asked = new ArrayList<>();
    for (String r : hub.requests) {
      if (r.startsWith("API ") && !r.startsWith("API info")) {
        asked.add(r.split(" ")[1]);
      }
    }
    assertThat(asked).containsExactlyInAnyOrderElementsOf(toyPipeline().keySet());
    // The token goes to the Hub, never to the CDN that serves the weights.
    assertThat(hub.requests)
        .filteredOn(r -> r.startsWith("CDN"))
        .isNotEmpty()
        .allMatch(r -> r.contains("auth=false"));
    assertThat(hub.requests)
        .filteredOn(r -> r.startsWith("API"))
        .allMatch(r -> r.contains("auth=true"));
    assertThat(log.toString()).doesNotContain("hf_secret_token_1234").contains(COMMIT);
    try (Stream<Path> files = Files.walk(folder)) {
      assertThat(files.map(Path::toString)).noneMatch(p -> p.endsWith(".partial"));
    }
  }

  @Test
  void aTagResolvesToItsCommitOnce() throws Exception {
    toyHub().tag("v1.0");
    HubModelDownloader.Result result =
        downloader().download(REPO, "v1.0", null, tmp.resolve("model"), ANY_SPACE);
    assertThat(result.snapshot().commit()).isEqualTo(COMMIT);
    assertThat(hub.requests).filteredOn(r -> r.startsWith("API info")).hasSize(1);
  }

  @Test
  void aConnectionCutMidFileResumesFromTheBytesItHas() throws Exception {
    toyHub().fail(UNET, new HubServer.Cut(1_000_000));
    Path folder = tmp.resolve("model");
    downloader().download(REPO, null, null, folder, ANY_SPACE);
    assertThat(Files.readAllBytes(folder.resolve(UNET)))
        .isEqualTo(Files.readAllBytes(TOY.resolve(UNET)));
    assertThat(hub.requestsFor(UNET))
        .filteredOn(r -> r.startsWith("CDN"))
        .extracting(r -> r.split(" ")[2])
        .containsExactly("range=0", "range=1000000");
    assertThat(log.toString()).contains(UNET).contains("retrying");
  }

  @Test
  void aStalledTransferIsAbandonedAndResumed() throws Exception {
    toyHub().fail(UNET, new HubServer.Stall(500_000, 5_000));
    Path folder = tmp.resolve("model");
    HubClient.Retry impatient =
        new HubClient.Retry(
            4, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(500));
    new HubModelDownloader(
            new HubClient(new HubSettings(hub.endpoint(), null), impatient, new PrintWriter(log)),
            new PrintWriter(log))
        .download(REPO, null, null, folder, ANY_SPACE);
    assertThat(Files.readAllBytes(folder.resolve(UNET)))
        .isEqualTo(Files.readAllBytes(TOY.resolve(UNET)));
    assertThat(hub.requestsFor(UNET))
        .filteredOn(r -> r.startsWith("CDN"))
        .extracting(r -> r.split(" ")[2])
        .containsExactly("range=0", "range=500000");
    assertThat(log.toString()).contains("no data for");
  }

  @Test
  void aCorruptedBodyFailsItsChecksumAndIsDownloadedAgain() throws Exception {
    toyHub().fail(UNET, new HubServer.Corrupt());
    hub.fail("model_index.json", new HubServer.Corrupt());
    Path folder = tmp.resolve("model");
    downloader().download(REPO, null, null, folder, ANY_SPACE);
    assertThat(tree(folder)).isEqualTo(toyPipeline());
    assertThat(log.toString())
        .contains("sha256 ")
        .contains("git blob id ")
        .contains("differs from the Hub's");
  }

  @Test
  void tooManyRequestsAndServerErrorsAreRetriedWithBackoff() throws Exception {
    toyHub()
        .fail("info", new HubServer.Status(503, null, null), new HubServer.Status(502, null, null));
    hub.fail(UNET, new HubServer.Status(429, null, "0"));
    hub.fail("model_index.json", new HubServer.Status(500, null, null));
    Path folder = tmp.resolve("model");
    downloader().download(REPO, null, null, folder, ANY_SPACE);
    assertThat(tree(folder)).isEqualTo(toyPipeline());
    assertThat(log.toString()).contains("HTTP 503").contains("HTTP 429").contains("HTTP 500");
  }

  @Test
  void serverErrorsThatDoNotStopAreATransientFailure() throws Exception {
    HubServer.Status unavailable = new HubServer.Status(503, null, null);
    toyHub().fail(UNET, unavailable, unavailable, unavailable, unavailable, unavailable);
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isFalse())
        .hasMessageContaining("hf://" + REPO + "@" + COMMIT + "/" + UNET)
        .hasMessageContaining("HTTP 503")
        .hasMessageContaining("gave up after 4 attempts");
    // Nothing half-written is left, not even the partial file.
    try (Stream<Path> files = Files.list(tmp.resolve("m/unet"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("config.json");
    }
  }

  @Test
  void anUnreachableHubIsATransientFailure() throws Exception {
    toyHub();
    HubSettings nowhere = new HubSettings(java.net.URI.create("http://127.0.0.1:1"), null);
    assertThatThrownBy(
            () -> downloader(nowhere).download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isFalse())
        .hasMessageContaining("model info");
  }

  @Test
  void unauthorizedForbiddenAndNotFoundAreInvalidInputThatSayWhich() throws Exception {
    toyHub().token = "hf_right";
    assertInvalid(null, REPO, "main", "HTTP 401 RepoNotFound", "no token was given");
    assertInvalid("hf_wrong", REPO, "main", "HTTP 401", "was refused: it is not valid, or expired");
    assertInvalid(
        "hf_right", REPO, "no-such-branch", "HTTP 404 RevisionNotFound", "no such revision");
    assertInvalid(
        "hf_right", "someone/else", "main", "HTTP 404 RepoNotFound", "no such model repository");
    hub.gated = true;
    assertInvalid("hf_right", REPO, "main", "HTTP 403 GatedRepo", "accept its conditions");
  }

  private void assertInvalid(
      String token, String repo, String revision, String status, String hint) {
    assertThatThrownBy(
            () ->
                downloader(new HubSettings(hub.endpoint(), token))
                    .download(repo, revision, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> {
              assertThat(e.invalidInput()).isTrue();
              assertThat(e.getMessage())
                  .startsWith("hf://" + repo + "@" + revision + ": model info: ")
                  .contains(status)
                  .contains(hint)
                  .doesNotContain("hf_right")
                  .doesNotContain("hf_wrong")
                  .doesNotContain("\n");
            });
  }

  @Test
  void aFileMissingAtTheCommitIsInvalidInput() throws Exception {
    toyHub().fail(UNET, new HubServer.Status(404, "EntryNotFound", null));
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessageContaining("HTTP 404 EntryNotFound")
        .hasMessageContaining("the file is not in the repository at this commit");
  }

  @Test
  void theScratchSpaceIsCheckedBeforeAnyWeightIsDownloaded() throws Exception {
    toyHub();
    long[] asked = new long[1];
    HubModelDownloader.SpaceCheck full =
        (bytes, what) -> {
          asked[0] = bytes;
          throw new StorageException(what + " needs " + bytes + " bytes; 10 free", true);
        };
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), full))
        .hasMessage("hf://" + REPO + " needs " + asked[0] + " bytes; 10 free");
    long weights = 0;
    for (String f : toyPipeline().keySet()) {
      weights += f.endsWith(".safetensors") ? Files.size(TOY.resolve(f)) : 0;
    }
    assertThat(asked[0]).isGreaterThan(weights);
    assertThat(hub.requests).noneMatch(r -> r.contains(".safetensors"));
  }

  @Test
  void pickledWeightsAloneAreRefusedBeforeAnyDownload() throws Exception {
    toyHub().files.remove(UNET);
    hub.files.remove("unet/diffusion_pytorch_model.fp16.safetensors");
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessageContaining("is not a Stable Diffusion pipeline the trainer can load")
        .hasMessageContaining(
            "unet/ has no safetensors weights (only pickled [unet/diffusion_pytorch_model.bin]");
    assertThat(hub.requests).noneMatch(r -> r.contains(".bin"));
  }

  @Test
  void aRepositoryWithoutModelIndexIsNotAPipeline() throws Exception {
    toyHub().files.remove("model_index.json");
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessageStartingWith(
            "hf://"
                + REPO
                + " (commit "
                + COMMIT
                + ") is not a diffusers pipeline: it has no model_index.json");
  }

  @Test
  void shardedWeightsAndAVariantOnlyWhenAsked() throws Exception {
    Path current = ParityFixture.root().resolve("sd1-tiny-current");
    hub = new HubServer(REPO, COMMIT).serve(current);
    Path plain = tmp.resolve("plain");
    downloader().download(REPO, null, null, plain, ANY_SPACE);
    Map<String, String> expected = tree(current);
    expected.remove("vae/diffusion_pytorch_model.bf16.safetensors");
    assertThat(tree(plain)).isEqualTo(expected);
    assertThat(tree(plain))
        .containsKeys(
            "unet/diffusion_pytorch_model.safetensors.index.json",
            "unet/diffusion_pytorch_model-00003-of-00003.safetensors",
            "tokenizer/tokenizer.json");

    Path bf16 = tmp.resolve("bf16");
    downloader().download(REPO, null, "bf16", bf16, ANY_SPACE);
    assertThat(tree(bf16).keySet())
        .contains("vae/diffusion_pytorch_model.bf16.safetensors")
        .doesNotContain("vae/diffusion_pytorch_model.safetensors")
        // the other components have no bf16 weights: their default ones, as diffusers does
        .contains("unet/diffusion_pytorch_model-00001-of-00003.safetensors");
    assertThat(
            DiffusersModelLayout.open(
                    bf16, "bf16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS)
                .vae()
                .weights())
        .isEqualTo(bf16.resolve("vae/diffusion_pytorch_model.bf16.safetensors"));

    assertThatThrownBy(
            () -> downloader().download(REPO, null, "fp16", tmp.resolve("fp16"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessageContaining("no component has weights of variant 'fp16'");
  }

  @Test
  void aShardTheIndexNamesButTheRepositoryLacksIsInvalidInput() throws Exception {
    hub = new HubServer(REPO, COMMIT).serve(ParityFixture.root().resolve("sd1-tiny-current"));
    hub.files.remove("unet/diffusion_pytorch_model-00002-of-00003.safetensors");
    assertThatThrownBy(() -> downloader().download(REPO, null, null, tmp.resolve("m"), ANY_SPACE))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessageContaining(
            "unet/diffusion_pytorch_model.safetensors.index.json names"
                + " diffusion_pytorch_model-00002-of-00003.safetensors, which the repository does not have");
  }

  /** The sha256 of every file under {@code folder}, by relative path. */
  private static Map<String, String> tree(Path folder) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        out.put(
            folder.relativize(f).toString().replace('\\', '/'),
            HubServer.sha256(Files.readAllBytes(f)));
      }
    }
    return out;
  }

  /** The toy model's pipeline files: all but its README. */
  private static Map<String, String> toyPipeline() throws Exception {
    Map<String, String> files = tree(TOY);
    files.remove("README.md");
    // The toy world's retain prompts sit beside its pipeline; a pipeline download leaves them.
    files.remove("retain_prompts.txt");
    return files;
  }

  private static long size(Path folder) throws Exception {
    try (Stream<Path> walk = Files.walk(folder)) {
      long total = 0;
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        total += Files.size(f);
      }
      return total;
    }
  }
}
