package io.concepterasure.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.core.FileRequestBodyConfiguration;
import software.amazon.awssdk.core.FileTransformerConfiguration;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Objects in an S3 bucket below a prefix, through the AWS SDK v2. Files over the part size go up as
 * a multipart upload, a few parts at a time: S3 creates the object only on CompleteMultipartUpload,
 * so a failed upload leaves nothing at the key, and the upload is aborted (after every part in
 * flight has settled) before the error is thrown, so no parts linger either.
 *
 * <p>The multipart calls are made here rather than by the SDK's multipart client because that
 * client fails the upload first and aborts in the background, unobserved: an abort still pending
 * when the trainer exits leaves parts behind.
 */
public final class S3ObjectStore implements ObjectStore {
  private final StorageUri location;
  private final String bucket;
  private final String prefix;
  private final S3AsyncClient client;
  private final long partSize;

  /** Parts in flight at once: enough to fill a link, few enough to bound memory and connections. */
  static final int PARALLEL_PARTS = 4;

  /** S3's limit on parts per upload; larger files get larger parts. */
  static final int MAX_PARTS = 10_000;

  public S3ObjectStore(S3Settings settings, StorageUri location) {
    this(settings, location, List.of());
  }

  /** With SDK interceptors, through which tests see the requests made. */
  S3ObjectStore(S3Settings settings, StorageUri location, List<ExecutionInterceptor> interceptors) {
    if (location.scheme() != StorageUri.Scheme.S3) {
      throw new IllegalArgumentException(location + " is not an s3:// location");
    }
    this.location = location;
    this.bucket = location.authority();
    this.prefix = location.path();
    S3AsyncClientBuilder builder =
        S3AsyncClient.builder()
            .region(Region.of(settings.region()))
            .credentialsProvider(settings.credentials())
            .forcePathStyle(settings.pathStyle())
            .overrideConfiguration(c -> c.executionInterceptors(interceptors));
    if (settings.endpoint() != null) {
      // Many S3-compatible servers reject the checksum trailers that SDK 2.30+ sends by default.
      builder
          .endpointOverride(settings.endpoint())
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    } else {
      builder.crossRegionAccessEnabled(true);
    }
    this.client = builder.build();
    this.partSize = settings.partSizeBytes();
  }

  @Override
  public StorageUri location() {
    return location;
  }

  private String key(String name) {
    return ObjectNames.join(prefix, ObjectNames.check(name));
  }

  @Override
  public void upload(Path file, String name) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new StorageException(
          file + ": no such file to upload to " + location.resolve(name), true);
    }
    long size = Files.size(file);
    put(
        name,
        size,
        (offset, length) ->
            AsyncRequestBody.fromFile(
                FileRequestBodyConfiguration.builder()
                    .path(file)
                    .position(offset)
                    .numBytesToRead(length)
                    .build()));
  }

  /** The bytes of an upload, as one request body per part. */
  interface Source {
    AsyncRequestBody body(long offset, long length);
  }

  /**
   * Sends {@code size} bytes from {@code source} as object {@code name}, in parts above the part
   * size.
   */
  void put(String name, long size, Source source) throws StorageException {
    String key = key(name);
    if (size <= partSize) {
      join(
          client.putObject(
              b -> b.bucket(bucket).key(key).contentLength(size), source.body(0, size)),
          "upload to",
          name);
      return;
    }
    long part = Math.max(partSize, (size + MAX_PARTS - 1) / MAX_PARTS);
    int parts = (int) ((size + part - 1) / part);
    String uploadId =
        join(client.createMultipartUpload(b -> b.bucket(bucket).key(key)), "start upload to", name)
            .uploadId();
    try {
      CompletedPart[] completed = new CompletedPart[parts];
      for (int first = 0; first < parts; first += PARALLEL_PARTS) {
        List<CompletableFuture<UploadPartResponse>> wave = new ArrayList<>();
        for (int i = first; i < Math.min(parts, first + PARALLEL_PARTS); i++) {
          long offset = i * part;
          long length = Math.min(part, size - offset);
          int number = i + 1;
          wave.add(
              client.uploadPart(
                  b ->
                      b.bucket(bucket)
                          .key(key)
                          .uploadId(uploadId)
                          .partNumber(number)
                          .contentLength(length),
                  source.body(offset, length)));
        }
        // Settle the whole wave before failing, so that no part can land after the abort.
        StorageException failure = null;
        for (int j = 0; j < wave.size(); j++) {
          try {
            String etag =
                join(wave.get(j), "upload part " + (first + j + 1) + " of " + parts + " to", name)
                    .eTag();
            completed[first + j] =
                CompletedPart.builder().partNumber(first + j + 1).eTag(etag).build();
          } catch (StorageException e) {
            failure = failure == null ? e : failure;
          }
        }
        if (failure != null) {
          throw failure;
        }
      }
      join(
          client.completeMultipartUpload(
              b ->
                  b.bucket(bucket)
                      .key(key)
                      .uploadId(uploadId)
                      .multipartUpload(m -> m.parts(completed))),
          "complete upload to",
          name);
    } catch (StorageException | RuntimeException e) {
      try {
        join(
            client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)),
            "abort upload to",
            name);
      } catch (StorageException abortFailure) {
        e.addSuppressed(abortFailure);
      }
      throw e;
    }
  }

  @Override
  public void download(String name, Path file) throws IOException {
    Path target = file.toAbsolutePath();
    Files.createDirectories(target.getParent());
    Path temp =
        target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".partial");
    try {
      GetObjectRequest request = GetObjectRequest.builder().bucket(bucket).key(key(name)).build();
      join(
          client.getObject(
              request,
              AsyncResponseTransformer.toFile(
                  temp, FileTransformerConfiguration.defaultCreateNew())),
          "download",
          name);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  @Override
  public List<String> list(String name) throws IOException {
    return new ArrayList<>(sizes(name).keySet());
  }

  @Override
  public SortedMap<String, Long> sizes(String name) throws IOException {
    String key = key(name);
    ListObjectsV2Request request =
        ListObjectsV2Request.builder().bucket(bucket).prefix(key).build();
    SortedMap<String, Long> sizes = new TreeMap<>();
    join(
        client
            .listObjectsV2Paginator(request)
            .contents()
            .subscribe(
                o -> {
                  String k = o.key();
                  // A prefix match on "a/b" also finds "a/bc"; keep the object itself and what is
                  // below it.
                  if (!k.endsWith("/")
                      && (key.isEmpty() || k.equals(key) || k.startsWith(key + "/"))) {
                    sizes.put(prefix.isEmpty() ? k : k.substring(prefix.length() + 1), o.size());
                  }
                }),
        "list",
        name);
    return sizes;
  }

  @Override
  public boolean exists(String name) throws IOException {
    try {
      head(name);
      return true;
    } catch (StorageException e) {
      if (e.getCause() instanceof S3Exception s3 && s3.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  /** The object's metadata (ETag, size). */
  HeadObjectResponse head(String name) throws StorageException {
    return join(client.headObject(b -> b.bucket(bucket).key(key(name))), "look up", name);
  }

  @Override
  public void delete(String name) throws IOException {
    join(client.deleteObject(b -> b.bucket(bucket).key(key(name))), "delete", name);
  }

  /** The SDK client, for tests that look behind the store. */
  S3AsyncClient client() {
    return client;
  }

  @Override
  public void close() {
    client.close();
  }

  private <T> T join(CompletableFuture<T> future, String action, String name)
      throws StorageException {
    try {
      return future.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      String where = location.resolve(name).toString();
      if (cause instanceof NoSuchKeyException) {
        throw new StorageException(where + ": no such object", true, cause);
      }
      if (cause instanceof S3Exception s3) {
        int status = s3.statusCode();
        String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
        // 4xx (no such bucket, access denied, bad signature) will not pass on a retry; 5xx may.
        boolean invalid = status >= 400 && status < 500 && status != 408 && status != 429;
        throw new StorageException(
            where
                + ": "
                + action
                + " failed: HTTP "
                + status
                + (code == null ? "" : " " + code)
                + " (request id "
                + s3.requestId()
                + ")",
            invalid,
            cause);
      }
      if (cause instanceof SdkException) {
        throw new StorageException(
            where + ": " + action + " failed: " + cause.getMessage(), false, cause);
      }
      throw new StorageException(where + ": " + action + " failed: " + cause, false, cause);
    }
  }
}
