package io.concepterasure.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/**
 * The foundation's smoke test: a multipart object written and read back through the AWS SDK against
 * a real S3 server (S3Proxy on loopback, signature v4), bytes checked by SHA-256.
 */
class S3SmokeTest {
  private static final String BUCKET = "smoke";
  private static final long PART = S3Settings.MIN_PART_SIZE; // 5 MiB

  @TempDir Path dir;

  private static S3ProxyServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new S3ProxyServer();
    server.createBucket(BUCKET);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static S3ObjectStore store(RequestLog log) {
    return new S3ObjectStore(
        server.settings(PART), StorageUri.parse("s3://" + BUCKET + "/runs/1"), List.of(log));
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  @Test
  void multipartObjectReadsBackByteForByte() throws Exception {
    byte[] data = new byte[12 << 20]; // 12 MiB: parts of 5 + 5 + 2 MiB
    new SplittableRandom(42).nextBytes(data);
    Path source = Files.write(dir.resolve("unet.safetensors"), data);

    RequestLog log = new RequestLog();
    try (S3ObjectStore store = store(log)) {
      store.upload(source, "unet/diffusion_pytorch_model.safetensors");
      assertThat(log.operations)
          .containsExactlyInAnyOrder(
              "CreateMultipartUpload 200",
              "UploadPart 200",
              "UploadPart 200",
              "UploadPart 200",
              "CompleteMultipartUpload 200");
      assertThat(store.head("unet/diffusion_pytorch_model.safetensors").contentLength())
          .isEqualTo(data.length);

      Path back = dir.resolve("back/unet.safetensors");
      store.download("unet/diffusion_pytorch_model.safetensors", back);
      assertThat(sha256(back)).isEqualTo(sha256(source));
      assertThat(store.list("unet")).containsExactly("unet/diffusion_pytorch_model.safetensors");
    }
  }

  /**
   * The third part's body fails while the first two are sent. S3 only creates an object on
   * CompleteMultipartUpload, which is never sent; the upload is aborted before the error is thrown,
   * so its parts are gone too. (An S3 that never completes the upload would also never show the
   * object; the abort is what frees the parts.)
   */
  @Test
  void aFailedUploadLeavesNoObjectAndNoParts() throws Exception {
    byte[] data = new byte[(int) (3 * PART)];
    new SplittableRandom(7).nextBytes(data);
    RequestLog log = new RequestLog();
    try (S3ObjectStore store = store(log)) {
      S3ObjectStore.Source failingThirdPart =
          (offset, length) ->
              offset < 2 * PART
                  ? AsyncRequestBody.fromBytes(
                      Arrays.copyOfRange(data, (int) offset, (int) (offset + length)))
                  : new FailingBody(length);
      assertThatThrownBy(
              () ->
                  store.put(
                      "vae/diffusion_pytorch_model.safetensors", data.length, failingThirdPart))
          .isInstanceOf(StorageException.class)
          .hasMessageStartingWith(
              "s3://smoke/runs/1/vae/diffusion_pytorch_model.safetensors: upload part 3 of 3 to failed");

      // Part 3 never reaches the server: its body fails before it is sent.
      assertThat(log.operations)
          .containsExactlyInAnyOrder(
              "CreateMultipartUpload 200",
              "UploadPart 200",
              "UploadPart 200",
              "AbortMultipartUpload 204");
      assertThat(store.exists("vae/diffusion_pytorch_model.safetensors")).isFalse();
      assertThat(store.list("")).doesNotContain("vae/diffusion_pytorch_model.safetensors");
      // The server keeps parts as hidden blobs named after the upload: none may be left.
      String uploadId = log.uploadIds.get(0);
      assertThat(server.storedBlobs(BUCKET)).noneMatch(blob -> blob.contains(uploadId));
    }
  }

  /** A body that fails as a file read would. */
  private static final class FailingBody implements AsyncRequestBody {
    private final long length;

    FailingBody(long length) {
      this.length = length;
    }

    @Override
    public Optional<Long> contentLength() {
      return Optional.of(length);
    }

    @Override
    public void subscribe(Subscriber<? super ByteBuffer> s) {
      s.onSubscribe(
          new Subscription() {
            private boolean done;

            @Override
            public void request(long n) {
              if (!done) {
                done = true;
                s.onError(new IOException("disk read failed (injected)"));
              }
            }

            @Override
            public void cancel() {
              done = true;
            }
          });
    }
  }
}
