package io.concepterasure.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The same folder round trip on S3 (S3Proxy on loopback) and on a local folder (a PVC's mount). */
class ObjectStoreTest {
  private static S3ProxyServer server;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = new S3ProxyServer();
    server.createBucket("models");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** A diffusers-like folder with one file over the part size. */
  private Path modelFolder() throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model.resolve("unet"));
    Files.createDirectories(model.resolve("scheduler"));
    Files.writeString(
        model.resolve("model_index.json"), "{\"_class_name\":\"StableDiffusionPipeline\"}");
    Files.writeString(model.resolve("scheduler/scheduler_config.json"), "{}");
    byte[] weights = new byte[6 << 20];
    new Random(5).nextBytes(weights);
    Files.write(model.resolve("unet/diffusion_pytorch_model.safetensors"), weights);
    return model;
  }

  private void roundTrip(ObjectStore store) throws Exception {
    Path model = modelFolder();
    store.uploadFolder(model, "erased");
    assertThat(store.list("erased"))
        .containsExactly(
            "erased/model_index.json",
            "erased/scheduler/scheduler_config.json",
            "erased/unet/diffusion_pytorch_model.safetensors");
    assertThat(store.list("")).hasSize(3);
    assertThat(store.list("eras")).isEmpty(); // a name, not a string prefix
    // Sizes, for checking a download against the scratch volume before it starts.
    assertThat(store.sizes("erased"))
        .containsEntry(
            "erased/unet/diffusion_pytorch_model.safetensors",
            Files.size(model.resolve("unet/diffusion_pytorch_model.safetensors")))
        .containsEntry("erased/model_index.json", Files.size(model.resolve("model_index.json")))
        .hasSize(3);
    assertThat(store.exists("erased/model_index.json")).isTrue();
    assertThat(store.exists("erased/nothing")).isFalse();

    Path copy = dir.resolve("copy");
    store.downloadFolder("erased", copy);
    for (String file :
        List.of(
            "model_index.json",
            "scheduler/scheduler_config.json",
            "unet/diffusion_pytorch_model.safetensors")) {
      assertThat(Files.readAllBytes(copy.resolve(file)))
          .as(file)
          .isEqualTo(Files.readAllBytes(model.resolve(file)));
    }
    try (Stream<Path> files = Files.walk(copy)) {
      assertThat(files.filter(Files::isRegularFile)).hasSize(3); // no temporary files left
    }

    store.delete("erased/scheduler/scheduler_config.json");
    assertThat(store.exists("erased/scheduler/scheduler_config.json")).isFalse();
    assertThatThrownBy(() -> store.download("erased/absent.json", dir.resolve("absent.json")))
        .isInstanceOf(StorageException.class)
        .hasMessageStartingWith(
            store.location().resolve("erased/absent.json") + ": no such object");
    assertThat(Files.exists(dir.resolve("absent.json"))).isFalse();
    assertThatThrownBy(() -> store.downloadFolder("nothing-here", dir.resolve("empty")))
        .hasMessage(store.location().resolve("nothing-here") + ": no objects found");
  }

  @Test
  void s3FolderRoundTrip() throws Exception {
    try (ObjectStore store =
        ObjectStore.open(
            StorageUri.parse("s3://models/runs/7"),
            server.settings(S3Settings.MIN_PART_SIZE),
            null)) {
      roundTrip(store);
    }
  }

  @Test
  void pvcFolderRoundTrip() throws Exception {
    Path mounts = dir.resolve("mnt/pvc");
    Files.createDirectories(mounts.resolve("cache"));
    try (ObjectStore store =
        ObjectStore.open(StorageUri.parse("pvc://cache/runs/7"), null, mounts)) {
      roundTrip(store);
      assertThat(mounts.resolve("cache/runs/7/erased/model_index.json")).exists();
    }
  }

  @Test
  void commitFilesAreUploadedLast() throws Exception {
    // The order in which objects become visible: a PUT, or the completion of a multipart upload.
    List<String> keys = new CopyOnWriteArrayList<>();
    ExecutionInterceptor keyLog =
        new ExecutionInterceptor() {
          @Override
          public void beforeExecution(
              Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof PutObjectRequest put) {
              keys.add(put.key());
            } else if (context.request() instanceof CompleteMultipartUploadRequest done) {
              keys.add(done.key());
            }
          }
        };
    Path model = modelFolder();
    try (S3ObjectStore store =
        new S3ObjectStore(
            server.settings(S3Settings.MIN_PART_SIZE),
            StorageUri.parse("s3://models/order"),
            List.of(keyLog))) {
      store.uploadFolder(model, "");
      assertThat(keys).last().isEqualTo("order/model_index.json");
      assertThat(keys).hasSize(3);

      // An erasure output: the model, then its record as the commit of the whole.
      Files.writeString(model.resolve("erasure.json"), "{}");
      keys.clear();
      store.uploadFolder(model, "run", List.of("model_index.json", "erasure.json"));
      assertThat(keys)
          .containsExactly(
              "order/run/scheduler/scheduler_config.json",
              "order/run/unet/diffusion_pytorch_model.safetensors",
              "order/run/model_index.json",
              "order/run/erasure.json");
    }
  }

  @Test
  void wrongCredentialsFailAsInvalidInputWithoutShowingTheSecret() throws Exception {
    String wrongSecret = "wrong-" + server.secretKey;
    S3Settings wrong =
        new S3Settings(
            server.endpoint(),
            "us-east-1",
            true,
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, wrongSecret)),
            S3Settings.MIN_PART_SIZE);
    Path file = Files.writeString(dir.resolve("f.json"), "{}");
    try (ObjectStore store = ObjectStore.open(StorageUri.parse("s3://models/x"), wrong, null)) {
      assertThatThrownBy(() -> store.upload(file, "f.json"))
          .isInstanceOf(StorageException.class)
          .hasMessageStartingWith(
              "s3://models/x/f.json: upload to failed: HTTP 403 SignatureDoesNotMatch")
          .satisfies(
              e -> {
                assertThat(((StorageException) e).invalidInput()).isTrue();
                assertThat(e.getMessage()).doesNotContain(wrongSecret);
              });
    }
    try (ObjectStore store =
        ObjectStore.open(
            StorageUri.parse("s3://no-such-bucket/x"),
            server.settings(S3Settings.MIN_PART_SIZE),
            null)) {
      assertThatThrownBy(() -> store.upload(file, "f.json"))
          .hasMessageStartingWith(
              "s3://no-such-bucket/x/f.json: upload to failed: HTTP 404 NoSuchBucket")
          .satisfies(e -> assertThat(((StorageException) e).invalidInput()).isTrue());
    }
  }

  @Test
  void settingsComeFromTheEnvironmentAndASecretFolderAndNeverPrintKeys() throws Exception {
    Path secret = Files.createDirectories(dir.resolve("secret"));
    Files.writeString(secret.resolve(S3Settings.ACCESS_KEY_ID), S3ProxyServer.ACCESS_KEY + "\n");
    Files.writeString(secret.resolve(S3Settings.SECRET_ACCESS_KEY), server.secretKey);
    S3Settings settings =
        S3Settings.from(
            Map.of(
                S3Settings.ENDPOINT_URL,
                server.endpoint().toString(),
                S3Settings.REGION,
                "eu-west-3"),
            secret);
    assertThat(settings.endpoint()).isEqualTo(server.endpoint());
    assertThat(settings.region()).isEqualTo("eu-west-3");
    assertThat(settings.pathStyle()).isTrue();
    assertThat(settings.toString())
        .doesNotContain(server.secretKey)
        .doesNotContain(S3ProxyServer.ACCESS_KEY);
    try (ObjectStore store =
        ObjectStore.open(StorageUri.parse("s3://models/env"), settings, null)) {
      store.upload(Files.writeString(dir.resolve("a.txt"), "hello"), "a.txt");
      assertThat(store.list("")).containsExactly("a.txt");
    }

    S3Settings aws = S3Settings.from(Map.of(), null);
    assertThat(aws.endpoint()).isNull();
    assertThat(aws.pathStyle()).isFalse();
    assertThat(aws.region()).isEqualTo("us-east-1");
    assertThatThrownBy(() -> S3Settings.from(Map.of(S3Settings.ENDPOINT_URL, "minio:9000"), null))
        .hasMessage("S3 endpoint 'minio:9000' is not an http(s) URL");
  }
}
