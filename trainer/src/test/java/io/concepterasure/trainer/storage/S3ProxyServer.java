package io.concepterasure.trainer.storage;

import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A real S3 server on loopback for tests: S3Proxy in this JVM on a free port, with AWS signature v4
 * checked, objects in memory in jclouds' "transient" store. That store implements multipart uploads
 * as S3 does: parts kept aside as hidden blobs, the object created only on completion, the parts
 * dropped on abort. S3Proxy's other stores fall short here: "filesystem-nio2" fails on file systems
 * without user extended attributes (it reads a missing 'user.content-md5' from each part), and
 * "transient-nio2" answers 400 to an abort after a part whose body failed.
 */
public final class S3ProxyServer implements AutoCloseable {
  public static final String ACCESS_KEY = "test-access-key";

  /** Random per server, so a test can check that no message or log ever carries it. */
  public final String secretKey = "secret-" + UUID.randomUUID();

  private final BlobStoreContext context;
  private final S3Proxy proxy;

  public S3ProxyServer() throws Exception {
    // The blob store's own identity is unused (S3Proxy checks the client's signature), but
    // required.
    context =
        ContextBuilder.newBuilder("transient")
            .credentials("unused", "unused")
            .build(BlobStoreContext.class);
    proxy =
        S3Proxy.builder()
            .blobStore(context.getBlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V4, ACCESS_KEY, secretKey)
            // SDK 2.3x sends x-amz-mp-object-size on CompleteMultipartUpload, which S3Proxy 2.6
            // does
            // not know and would refuse with 501; AWS and other servers ignore such headers.
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

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  public void createBucket(String name) {
    context.getBlobStore().createContainerInLocation(null, name);
  }

  /** Every blob the server's store holds in {@code bucket}, multipart parts included. */
  public List<String> storedBlobs(String bucket) {
    return context.getBlobStore().list(bucket, ListContainerOptions.Builder.recursive()).stream()
        .map(StorageMetadata::getName)
        .sorted()
        .toList();
  }

  public S3Settings settings(long partSize) {
    return new S3Settings(
        endpoint(),
        "us-east-1",
        true,
        StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, secretKey)),
        partSize);
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
    context.close();
  }
}
