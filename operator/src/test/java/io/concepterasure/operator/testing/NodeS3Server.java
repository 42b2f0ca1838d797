package io.concepterasure.operator.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;

/**
 * A real S3 server (S3Proxy, AWS signature v4 checked) listening on the node's bridge address, the
 * one address that the local cluster's pods can reach. Objects live in memory (jclouds' "transient"
 * store; see the trainer's S3ProxyServer for why not the file stores). The test reads and writes
 * objects through the store directly; pods go through S3.
 */
public final class NodeS3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "e2e-access-key";
  public static final String REGION = "us-east-1";

  /** Random per server, so a test can check that no log, event or status ever carries it. */
  public final String secretKey = "secret-" + UUID.randomUUID();

  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final InetAddress address;

  public NodeS3Server(InetAddress address) throws Exception {
    this.address = address;
    context =
        ContextBuilder.newBuilder("transient")
            .credentials("unused", "unused")
            .build(BlobStoreContext.class);
    proxy =
        S3Proxy.builder()
            .blobStore(context.getBlobStore())
            .endpoint(URI.create("http://" + address.getHostAddress() + ":0"))
            .awsAuthentication(AuthenticationType.AWS_V4, ACCESS_KEY, secretKey)
            // SDK 2.3x sends x-amz-mp-object-size, which S3Proxy 2.6 does not know (501).
            .ignoreUnknownHeaders(true)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
  }

  /** The endpoint as pods see it ({@code AWS_ENDPOINT_URL}). */
  public URI endpoint() {
    return URI.create("http://" + address.getHostAddress() + ":" + proxy.getPort());
  }

  /** The keys of a credentials Secret for this server (docs/api.md, "Credentials"). */
  public Map<String, String> credentials() {
    return Map.of(
        "AWS_ACCESS_KEY_ID", ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY", secretKey,
        "AWS_REGION", REGION,
        "AWS_ENDPOINT_URL", endpoint().toString());
  }

  public void createBucket(String bucket) {
    store().createContainerInLocation(null, bucket);
  }

  /** Uploads every file under {@code folder} to {@code bucket/prefix/<relative path>}. */
  public void putFolder(String bucket, String prefix, Path folder) {
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String key = prefix + "/" + folder.relativize(file).toString().replace('\\', '/');
        Blob blob = store().blobBuilder(key).payload(Files.readAllBytes(file)).build();
        store().putBlob(bucket, blob);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every object under {@code prefix/} with its size, sorted by key. */
  public Map<String, Long> list(String bucket, String prefix) {
    Map<String, Long> objects = new TreeMap<>();
    for (StorageMetadata m :
        store().list(bucket, ListContainerOptions.Builder.prefix(prefix + "/").recursive())) {
      if (m.getName().startsWith(prefix + "/")) {
        objects.put(m.getName(), m.getSize());
      }
    }
    return objects;
  }

  public byte[] get(String bucket, String key) {
    Blob blob = store().getBlob(bucket, key);
    if (blob == null) {
      throw new IllegalArgumentException("no object s3://" + bucket + "/" + key);
    }
    try (InputStream in = blob.getPayload().openStream()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies {@code bucket/prefix/} to a local folder (e.g. for a host-side {@code generate}). */
  public void getFolder(String bucket, String prefix, Path folder) {
    try {
      for (String key : list(bucket, prefix).keySet()) {
        Path file = folder.resolve(key.substring(prefix.length() + 1));
        Files.createDirectories(file.getParent());
        Files.write(file, get(bucket, key));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<String> buckets() {
    return store().list().stream().map(StorageMetadata::getName).sorted().toList();
  }

  private BlobStore store() {
    return context.getBlobStore();
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
    context.close();
  }
}
