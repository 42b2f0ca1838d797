package io.concepterasure.trainer.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * How to reach S3 or an S3-compatible server (MinIO, Ceph, SeaweedFS, S3Proxy).
 *
 * <p>{@code endpoint} null means AWS itself; with an endpoint, path-style addressing is the default
 * because most compatible servers have no per-bucket DNS. {@link #toString()} never shows
 * credentials.
 *
 * @param partSizeBytes files larger than this are uploaded in parts of this size (at least 5 MiB,
 *     the S3 minimum for all parts but the last)
 */
public record S3Settings(
    URI endpoint,
    String region,
    boolean pathStyle,
    AwsCredentialsProvider credentials,
    long partSizeBytes) {

  public static final long MIN_PART_SIZE = 5L << 20;
  public static final long DEFAULT_PART_SIZE = 64L << 20;
  public static final String DEFAULT_REGION = "us-east-1";

  /**
   * Standard AWS names, read from the environment or, with priority, from the credentials folder.
   */
  public static final String ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";

  public static final String SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
  public static final String SESSION_TOKEN = "AWS_SESSION_TOKEN";
  public static final String ENDPOINT_URL_S3 = "AWS_ENDPOINT_URL_S3";
  public static final String ENDPOINT_URL = "AWS_ENDPOINT_URL";
  public static final String REGION = "AWS_REGION";

  /** "true" or "false"; unset: path style exactly when an endpoint is given. */
  public static final String FORCE_PATH_STYLE = "AWS_S3_FORCE_PATH_STYLE";

  public S3Settings {
    if (region == null || region.isBlank()) {
      region = DEFAULT_REGION;
    }
    if (credentials == null) {
      credentials = DefaultCredentialsProvider.builder().build();
    }
    if (partSizeBytes < MIN_PART_SIZE) {
      throw new IllegalArgumentException(
          "part size " + partSizeBytes + " is below the S3 minimum of 5 MiB");
    }
  }

  /**
   * Settings from the environment and an optional folder of files named like the variables (a
   * mounted Kubernetes Secret, so keys are never in the pod spec). Without keys in the folder, the
   * SDK's default chain finds credentials (environment, web identity / IRSA, instance profile).
   */
  public static S3Settings from(Map<String, String> environment, Path credentialsFolder)
      throws StorageException {
    Map<String, String> values = new HashMap<>(environment);
    if (credentialsFolder != null) {
      for (String key :
          new String[] {
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            SESSION_TOKEN,
            ENDPOINT_URL_S3,
            ENDPOINT_URL,
            REGION,
            FORCE_PATH_STYLE
          }) {
        Path file = credentialsFolder.resolve(key);
        if (Files.isRegularFile(file)) {
          try {
            values.put(key, Files.readString(file, StandardCharsets.UTF_8).strip());
          } catch (IOException e) {
            throw new StorageException(file + ": cannot be read: " + e.getMessage(), false, e);
          }
        }
      }
    }
    String endpointText = nonBlank(values.get(ENDPOINT_URL_S3), values.get(ENDPOINT_URL));
    URI endpoint = null;
    if (endpointText != null) {
      try {
        endpoint = URI.create(endpointText);
      } catch (IllegalArgumentException e) {
        throw new StorageException("S3 endpoint '" + endpointText + "' is not a URL", true, e);
      }
      if (endpoint.getScheme() == null || endpoint.getHost() == null) {
        throw new StorageException(
            "S3 endpoint '" + endpointText + "' is not an http(s) URL", true);
      }
    }
    String pathStyle = values.get(FORCE_PATH_STYLE);
    AwsCredentialsProvider credentials = null;
    String keyId = values.get(ACCESS_KEY_ID);
    String secret = values.get(SECRET_ACCESS_KEY);
    if (keyId != null && secret != null) {
      String token = values.get(SESSION_TOKEN);
      credentials =
          StaticCredentialsProvider.create(
              token == null
                  ? AwsBasicCredentials.create(keyId, secret)
                  : AwsSessionCredentials.create(keyId, secret, token));
    }
    return new S3Settings(
        endpoint,
        nonBlank(values.get(REGION), values.get("AWS_DEFAULT_REGION")),
        pathStyle == null ? endpoint != null : Boolean.parseBoolean(pathStyle),
        credentials,
        DEFAULT_PART_SIZE);
  }

  public S3Settings withPartSize(long bytes) {
    return new S3Settings(endpoint, region, pathStyle, credentials, bytes);
  }

  private static String nonBlank(String first, String second) {
    if (first != null && !first.isBlank()) {
      return first.strip();
    }
    return second == null || second.isBlank() ? null : second.strip();
  }

  @Override
  public String toString() {
    return "S3Settings[endpoint="
        + (endpoint == null ? "AWS" : endpoint)
        + ", region="
        + region
        + ", pathStyle="
        + pathStyle
        + ", partSizeBytes="
        + partSizeBytes
        + "]";
  }
}
