package io.concepterasure.trainer.storage;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model is read from or written to, as the ConceptErasure resource names it: {@code
 * s3://bucket/prefix}, {@code pvc://claim/path} (a PersistentVolumeClaim the Job mounts), {@code
 * file:///path} or a plain path, and {@code hf://org/name[@revision]} (a model on the Hugging Face
 * Hub, read through {@code HubModelDownloader}; never an output).
 *
 * <p>{@code path} never starts or ends with '/', and has no "." or ".." segment, so that it can
 * neither escape a claim's mount nor name an S3 key outside the prefix.
 */
public record StorageUri(Scheme scheme, String authority, String path, String revision) {

  public enum Scheme {
    S3("s3"),
    PVC("pvc"),
    FILE("file"),
    HUGGING_FACE("hf");

    private final String prefix;

    Scheme(String prefix) {
      this.prefix = prefix;
    }

    public String prefix() {
      return prefix;
    }
  }

  // The same forms the CRD's CEL rules accept (api: ModelSource, OutputTarget).
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  private static final Pattern CLAIM = Pattern.compile("[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?");
  private static final Pattern HF =
      Pattern.compile(
          "([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9._/-]+))?");
  private static final Pattern SCHEME =
      Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)", Pattern.DOTALL);

  public static StorageUri parse(String uri) {
    if (uri == null || uri.isBlank()) {
      throw new InvalidStorageUriException(String.valueOf(uri), "is empty");
    }
    Matcher m = SCHEME.matcher(uri);
    if (!m.matches()) {
      // A plain path, absolute or relative to the working directory.
      return new StorageUri(
          Scheme.FILE, "", Path.of(uri).toAbsolutePath().normalize().toString(), null);
    }
    String scheme = m.group(1).toLowerCase(Locale.ROOT);
    String rest = m.group(2);
    switch (scheme) {
      case "s3":
        {
          int slash = rest.indexOf('/');
          String bucket = slash < 0 ? rest : rest.substring(0, slash);
          if (!BUCKET.matcher(bucket).matches()) {
            throw new InvalidStorageUriException(
                uri, "has no valid bucket name (3-63 lowercase letters, digits, '.', '-')");
          }
          return new StorageUri(
              Scheme.S3,
              bucket,
              relativePath(uri, slash < 0 ? "" : rest.substring(slash + 1)),
              null);
        }
      case "pvc":
        {
          int slash = rest.indexOf('/');
          String claim = slash < 0 ? rest : rest.substring(0, slash);
          if (!CLAIM.matcher(claim).matches()) {
            throw new InvalidStorageUriException(
                uri, "has no valid claim name (a Kubernetes DNS-1123 name)");
          }
          return new StorageUri(
              Scheme.PVC,
              claim,
              relativePath(uri, slash < 0 ? "" : rest.substring(slash + 1)),
              null);
        }
      case "file":
        {
          if (!rest.startsWith("/")) {
            throw new InvalidStorageUriException(uri, "must be file:///absolute/path");
          }
          return new StorageUri(Scheme.FILE, "", Path.of(rest).normalize().toString(), null);
        }
      case "hf":
        {
          Matcher h = HF.matcher(rest);
          if (!h.matches()) {
            throw new InvalidStorageUriException(
                uri, "must be hf://org/name or hf://org/name@revision");
          }
          return new StorageUri(Scheme.HUGGING_FACE, "", h.group(1), h.group(2));
        }
      default:
        throw new InvalidStorageUriException(
            uri,
            "has unsupported scheme '"
                + scheme
                + "'; use s3://bucket/prefix, pvc://claim/path or a file path");
    }
  }

  private static String relativePath(String uri, String path) {
    String trimmed = path.replaceAll("/+$", "");
    if (trimmed.isEmpty()) {
      return "";
    }
    for (String segment : trimmed.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new InvalidStorageUriException(uri, "has an empty, '.' or '..' path segment");
      }
    }
    return trimmed;
  }

  /**
   * The local folder of a {@code pvc://} or file location, with claims mounted under {@code
   * pvcRoot}.
   */
  public Path localPath(Path pvcRoot) {
    switch (scheme) {
      case PVC:
        Path claimRoot = pvcRoot.resolve(authority);
        return path.isEmpty() ? claimRoot : claimRoot.resolve(path);
      case FILE:
        return Path.of(path);
      default:
        throw new IllegalStateException(this + " is not a local location");
    }
  }

  /** A location {@code name} below this one (a relative, '/'-separated name). */
  public StorageUri resolve(String name) {
    if (scheme == Scheme.HUGGING_FACE) {
      throw new IllegalStateException("cannot resolve below " + this);
    }
    String child = ObjectNames.check(name);
    if (child.isEmpty()) {
      return this;
    }
    String joined =
        path.isEmpty()
            ? child
            : scheme == Scheme.FILE ? Path.of(path).resolve(child).toString() : path + "/" + child;
    return new StorageUri(scheme, authority, joined, revision);
  }

  @Override
  public String toString() {
    switch (scheme) {
      case FILE:
        return "file://" + path;
      case HUGGING_FACE:
        return "hf://" + path + (revision == null ? "" : "@" + revision);
      default:
        return scheme.prefix() + "://" + authority + (path.isEmpty() ? "" : "/" + path);
    }
  }
}
