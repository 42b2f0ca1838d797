package io.concepterasure.trainer.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.storage.StorageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hugging Face Hub's HTTP API as huggingface_hub uses it: a model's info at a revision ({@code
 * GET /api/models/{repo}/revision/{revision}?blobs=true}: the commit the revision resolves to and
 * every file with its size and checksum), then each file ({@code GET
 * /{repo}/resolve/{commit}/{path}}, which sends large files on to a CDN).
 *
 * <p>Written on the JDK's HttpClient rather than a Hub SDK: there is no maintained Java client, and
 * two GETs with ranges need none. Redirects are followed here, not by the client, so that the token
 * goes to the endpoint's own host only (a CDN gets a signed URL, never the token). 401, 403 and 404
 * are invalid input, each with what it means; 429, 5xx and broken connections are retried with
 * exponential backoff (Retry-After honoured) and then a transient failure. A download that breaks
 * resumes with a Range request from the bytes it has; a file is moved into place only after its
 * size and checksum (the LFS sha256, or git's blob id for small files) match the model info.
 */
public final class HubClient {
  static final int MAX_REDIRECTS = 5;
  private static final int MAX_INFO_BYTES = 64 << 20;
  private static final int MAX_ERROR_BYTES = 8 << 10;
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How hard to try: {@code attempts} tries per request without progress, the wait doubling from
   * {@code firstDelay} up to {@code maxDelay}; a transfer that gets no byte for {@code idleTimeout}
   * counts as broken.
   */
  public record Retry(int attempts, Duration firstDelay, Duration maxDelay, Duration idleTimeout) {
    public static final Retry DEFAULT =
        new Retry(6, Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofMinutes(2));
  }

  private final HubSettings settings;
  private final Retry retry;
  private final PrintWriter log;
  private final HttpClient http;

  public HubClient(HubSettings settings, Retry retry, PrintWriter log) {
    this.settings = settings;
    this.retry = retry;
    this.log = log;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(30))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** Resolves {@code revision} (null: main) of model {@code repo} to a commit and its files. */
  public HubSnapshot snapshot(String repo, String revision)
      throws StorageException, InterruptedException {
    String asked = revision == null ? "main" : revision;
    URI uri =
        URI.create(
            settings.endpoint()
                + "/api/models/"
                + repo
                + "/revision/"
                + encodeSegment(asked)
                + "?blobs=true");
    String what = "hf://" + repo + (revision == null ? "" : "@" + revision);
    Attempts attempts = new Attempts(what + ": model info", null);
    while (true) {
      try {
        HttpResponse<Body> response = get(uri, 0, info -> bytes(info, MAX_INFO_BYTES));
        fail(response, what, null);
        return parseSnapshot(repo, revision, response.body().bytes(), what);
      } catch (IOException e) {
        attempts.failed(e, false);
      }
    }
  }

  private HubSnapshot parseSnapshot(String repo, String revision, byte[] body, String what)
      throws StorageException {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new StorageException(what + ": the model info is not JSON: " + e.getMessage(), false);
    }
    String commit = root.path("sha").asText("");
    if (!COMMIT.matcher(commit).matches()) {
      throw new StorageException(
          what + ": the model info names no commit (sha '" + commit + "')", false);
    }
    List<HubFile> files = new ArrayList<>();
    for (JsonNode sibling : root.path("siblings")) {
      String path = sibling.path("rfilename").asText(null);
      if (path == null) {
        continue;
      }
      JsonNode lfs = sibling.path("lfs");
      long size =
          sibling.path("size").canConvertToLong()
              ? sibling.get("size").asLong()
              : lfs.path("size").asLong(-1);
      String sha256 = lfs.path("sha256").asText(null);
      String blobId = lfs.isObject() ? null : sibling.path("blobId").asText(null);
      files.add(new HubFile(path, size, sha256, blobId));
    }
    return new HubSnapshot(repo, revision, commit, files);
  }

  /**
   * Downloads {@code file} of {@code snapshot} to {@code target}: written beside it as a hidden
   * partial file, resumed after broken connections, moved into place once verified.
   */
  public void download(HubSnapshot snapshot, HubFile file, Path target)
      throws StorageException, InterruptedException {
    String what = "hf://" + snapshot.repo() + "@" + snapshot.commit() + "/" + file.path();
    StringBuilder path = new StringBuilder();
    for (String segment : file.path().split("/", -1)) {
      path.append('/').append(encodeSegment(segment));
    }
    URI uri =
        URI.create(
            settings.endpoint() + "/" + snapshot.repo() + "/resolve/" + snapshot.commit() + path);
    Path partial = target.resolveSibling("." + target.getFileName() + ".partial");
    try {
      Files.createDirectories(target.getParent());
      try (FileChannel channel =
          FileChannel.open(
              partial,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        Checksum checksum = new Checksum(file);
        Attempts attempts = new Attempts(what, file);
        while (true) {
          long before = checksum.bytes();
          try {
            transfer(uri, channel, checksum, what);
            checksum.verify(what);
            break;
          } catch (HubHttpException e) {
            attempts.failed(e, checksum.bytes() > before);
          } catch (IOException e) {
            if (e instanceof ChecksumMismatch) {
              checksum.reset();
            }
            attempts.failed(e, checksum.bytes() > before);
          }
        }
        channel.force(true);
      }
      Files.move(
          partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      deleteQuietly(partial);
      if (e instanceof StorageException s) {
        throw s;
      }
      throw new StorageException(
          what + ": cannot write " + target + ": " + e.getMessage(), false, e);
    } catch (InterruptedException | RuntimeException e) {
      deleteQuietly(partial);
      throw e;
    }
  }

  /** One GET from the bytes the file has; appends what comes, or starts over on a plain 200. */
  private void transfer(URI uri, FileChannel channel, Checksum checksum, String what)
      throws IOException, InterruptedException {
    long have = checksum.bytes();
    // Bytes written but not yet hashed (a write that failed half-way) are dropped.
    channel.truncate(have);
    channel.position(have);
    if (checksum.expectedSize() >= 0 && have == checksum.expectedSize()) {
      return; // complete: only the check was left
    }
    AtomicReference<FileSink> sink = new AtomicReference<>();
    HttpResponse<Body> response =
        get(
            uri,
            have,
            info -> {
              int status = info.statusCode();
              if (status == 200 || status == 206) {
                long start = status == 206 ? rangeStart(info.headers()) : 0;
                if (status == 206 && start != have) {
                  return BodySubscribers.replacing(new Body(null, "a range from " + start));
                }
                FileSink s = new FileSink(channel, checksum, start);
                sink.set(s);
                return s;
              }
              return bytes(info, MAX_ERROR_BYTES);
            },
            sink);
    fail(response, what, uri);
    if (response.body().unexpected() != null) {
      throw new IOException(
          "asked for bytes from " + have + ", got " + response.body().unexpected());
    }
    if (checksum.expectedSize() >= 0 && checksum.bytes() != checksum.expectedSize()) {
      throw new IOException(
          "the transfer ended after "
              + checksum.bytes()
              + " of "
              + checksum.expectedSize()
              + " bytes");
    }
  }

  private static long rangeStart(HttpHeaders headers) {
    Matcher m = CONTENT_RANGE.matcher(headers.firstValue("Content-Range").orElse(""));
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** What a response carried: an error body, or why a file body was refused. */
  private record Body(byte[] bytes, String unexpected) {}

  private static BodySubscriber<Body> bytes(HttpResponse.ResponseInfo info, int limit) {
    long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
    if (declared > limit) {
      return BodySubscribers.replacing(new Body(new byte[0], null));
    }
    return BodySubscribers.mapping(BodySubscribers.ofByteArray(), b -> new Body(b, null));
  }

  private HttpResponse<Body> get(URI uri, long from, HttpResponse.BodyHandler<Body> handler)
      throws IOException, InterruptedException {
    return get(uri, from, handler, new AtomicReference<>());
  }

  /**
   * A GET with redirects followed by hand: the token only to the endpoint's own origin. A body that
   * stalls for the idle timeout is aborted.
   */
  private HttpResponse<Body> get(
      URI uri, long from, HttpResponse.BodyHandler<Body> handler, AtomicReference<FileSink> sink)
      throws IOException, InterruptedException {
    URI current = uri;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(current)
              .GET()
              .timeout(retry.idleTimeout())
              .header("User-Agent", "concept-erasure-trainer");
      if (settings.token() != null && sameOrigin(current, settings.endpoint())) {
        request.header("Authorization", "Bearer " + settings.token());
      }
      if (from > 0) {
        request.header("Range", "bytes=" + from + "-");
      }
      HttpResponse<Body> response =
          await(
              http.sendAsync(
                  request.build(),
                  info ->
                      redirect(info.statusCode())
                          ? BodySubscribers.replacing(new Body(new byte[0], null))
                          : handler.apply(info)),
              sink);
      if (!redirect(response.statusCode())) {
        return response;
      }
      String location =
          response
              .headers()
              .firstValue("Location")
              .orElseThrow(
                  () ->
                      new IOException(
                          "HTTP " + response.statusCode() + " without a Location header"));
      current = current.resolve(location);
    }
    throw new IOException("more than " + MAX_REDIRECTS + " redirects");
  }

  private HttpResponse<Body> await(
      CompletableFuture<HttpResponse<Body>> future, AtomicReference<FileSink> sink)
      throws IOException, InterruptedException {
    long tick = Math.max(10, Math.min(1000, retry.idleTimeout().toMillis() / 4));
    try {
      while (true) {
        try {
          return future.get(tick, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          FileSink s = sink.get();
          if (s != null && s.idleFor() > retry.idleTimeout().toNanos()) {
            s.abort(
                new HttpTimeoutException(
                    "no data for " + retry.idleTimeout().toSeconds() + " s; connection abandoned"));
          }
        }
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(String.valueOf(cause), cause);
    } catch (InterruptedException e) {
      future.cancel(true);
      throw e;
    }
  }

  private static boolean redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null
        && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI uri) {
    return uri.getPort() >= 0
        ? uri.getPort()
        : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  /** Throws for an error status: {@link HubHttpException}, to retry or to report. */
  private void fail(HttpResponse<Body> response, String what, URI file) throws HubHttpException {
    int status = response.statusCode();
    if (status < 300) {
      return;
    }
    HttpHeaders h = response.headers();
    String code = h.firstValue("X-Error-Code").orElse(null);
    String message = h.firstValue("X-Error-Message").orElse(null);
    if (message == null && response.body() != null && response.body().bytes() != null) {
      try {
        JsonNode error = JSON.readTree(response.body().bytes()).path("error");
        message = error.isTextual() ? error.asText() : null;
      } catch (IOException | RuntimeException e) {
        // not JSON: the status and code say enough
      }
    }
    throw new HubHttpException(status, code, message, retryAfter(h));
  }

  private static Duration retryAfter(HttpHeaders headers) {
    String value = headers.firstValue("Retry-After").orElse(null);
    if (value == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Long.parseLong(value.strip()));
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime when =
            ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME);
        return Duration.between(ZonedDateTime.now(), when);
      } catch (RuntimeException ignored) {
        return null;
      }
    }
  }

  /** An HTTP error answer from the Hub (or the CDN it sent us to). */
  static final class HubHttpException extends IOException {
    final int status;
    final String code;
    final String hubMessage;
    final Duration retryAfter;

    HubHttpException(int status, String code, String hubMessage, Duration retryAfter) {
      super(
          "HTTP "
              + status
              + (code == null ? "" : " " + code)
              + (hubMessage == null ? "" : " (" + hubMessage + ")"));
      this.status = status;
      this.code = code;
      this.hubMessage = hubMessage;
      this.retryAfter = retryAfter;
    }

    boolean retryable() {
      return status == 408 || status == 429 || status >= 500;
    }
  }

  /** Counts failures without progress, waits between them, and turns the last into the outcome. */
  private final class Attempts {
    private final String what;
    private final HubFile file;
    private int failures;
    private Duration delay = retry.firstDelay();

    Attempts(String what, HubFile file) {
      this.what = what;
      this.file = file;
    }

    void failed(IOException e, boolean progressed) throws StorageException, InterruptedException {
      if (e instanceof HubHttpException h && !h.retryable()) {
        throw new StorageException(what + ": " + explain(h), true, e);
      }
      if (progressed) {
        failures = 0;
        delay = retry.firstDelay();
      }
      failures++;
      if (failures >= retry.attempts()) {
        throw new StorageException(
            what + ": " + e.getMessage() + " (gave up after " + failures + " attempts)", false, e);
      }
      Duration wait = delay;
      if (e instanceof HubHttpException h && h.retryAfter != null) {
        wait = h.retryAfter.isNegative() ? Duration.ZERO : h.retryAfter;
        wait = wait.compareTo(retry.maxDelay()) > 0 ? retry.maxDelay() : wait;
      }
      log.println(
          what
              + ": "
              + e.getMessage()
              + "; retrying in "
              + wait.toMillis()
              + " ms (attempt "
              + (failures + 1)
              + " of "
              + retry.attempts()
              + ")");
      log.flush();
      Thread.sleep(wait.toMillis());
      delay = delay.multipliedBy(2);
      if (delay.compareTo(retry.maxDelay()) > 0) {
        delay = retry.maxDelay();
      }
    }

    /** What a 4xx means for the user; the token is never part of it. */
    private String explain(HubHttpException h) {
      String hub = h.getMessage();
      String hint;
      switch (h.status) {
        case 401:
          hint =
              settings.token() == null
                  ? "no token was given, and the Hub answers 401 for a repository that does not"
                      + " exist or is private or gated; give a read token as "
                      + HubSettings.TOKEN
                      + " in model.credentialsSecretRef"
                  : "the token ("
                      + HubSettings.TOKEN
                      + " in model.credentialsSecretRef) was refused: it is not valid, or expired";
          break;
        case 403:
          hint =
              "the token may not read this repository (a gated model: accept its conditions on"
                  + " the Hub with the token's account; a fine-grained token: allow it to read"
                  + " this repository)";
          break;
        case 404:
          hint =
              "RevisionNotFound".equals(h.code)
                  ? "the repository has no such revision (branch, tag or commit)"
                  : "EntryNotFound".equals(h.code) || file != null
                      ? "the file is not in the repository at this commit"
                      : "no such model repository at " + settings.endpointForMessages();
          break;
        default:
          hint = "the Hub refused the request";
      }
      return hub + ": " + hint;
    }
  }

  /** The running size and digest of a download, checked at the end against the model info. */
  private static final class Checksum {
    private final HubFile file;
    private MessageDigest digest;
    private long bytes;

    Checksum(HubFile file) {
      this.file = file;
      reset();
    }

    void reset() {
      try {
        digest = MessageDigest.getInstance(file.lfs() ? "SHA-256" : "SHA-1");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java has SHA-256 and SHA-1", e);
      }
      if (!file.lfs() && file.gitBlobId() != null && file.size() >= 0) {
        digest.update(("blob " + file.size() + "\0").getBytes(StandardCharsets.US_ASCII));
      }
      bytes = 0;
    }

    long bytes() {
      return bytes;
    }

    long expectedSize() {
      return file.size();
    }

    void update(ByteBuffer data) {
      bytes += data.remaining();
      digest.update(data);
    }

    void verify(String what) throws ChecksumMismatch {
      if (file.size() >= 0 && bytes != file.size()) {
        throw new ChecksumMismatch(
            bytes + " bytes where the Hub lists " + file.size() + "; downloading it again");
      }
      String actual = HexFormat.of().formatHex(digest.digest());
      // git's blob id hashes a header with the size: without the size it cannot be checked.
      String expected = file.lfs() ? file.sha256() : file.size() >= 0 ? file.gitBlobId() : null;
      if (expected != null && !expected.toLowerCase(Locale.ROOT).equals(actual)) {
        throw new ChecksumMismatch(
            (file.lfs() ? "sha256 " : "git blob id ")
                + actual
                + " differs from the Hub's "
                + expected
                + " (corrupted in transit, or changed by a proxy); downloading it again");
      }
    }
  }

  private static final class ChecksumMismatch extends IOException {
    ChecksumMismatch(String message) {
      super(message);
    }
  }

  /** Appends the body to the partial file, hashing as it goes; notes when data last came. */
  private static final class FileSink implements BodySubscriber<Body> {
    private final FileChannel channel;
    private final Checksum checksum;
    private final long start;
    private final CompletableFuture<Body> result = new CompletableFuture<>();
    private volatile Flow.Subscription subscription;
    private volatile long lastData = System.nanoTime();

    FileSink(FileChannel channel, Checksum checksum, long start) {
      this.channel = channel;
      this.checksum = checksum;
      this.start = start;
    }

    long idleFor() {
      return System.nanoTime() - lastData;
    }

    void abort(IOException reason) {
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
      result.completeExceptionally(reason);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      try {
        if (start == 0 && checksum.bytes() > 0) {
          // A plain 200 to a range request: the whole file again.
          checksum.reset();
          channel.truncate(0);
          channel.position(0);
        }
      } catch (IOException e) {
        s.cancel();
        result.completeExceptionally(e);
        return;
      }
      s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      try {
        for (ByteBuffer item : items) {
          ByteBuffer toHash = item.duplicate();
          while (item.hasRemaining()) {
            channel.write(item);
          }
          checksum.update(toHash);
        }
        lastData = System.nanoTime();
        subscription.request(1);
      } catch (IOException e) {
        subscription.cancel();
        result.completeExceptionally(e);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(new Body(null, null));
    }

    @Override
    public CompletionStage<Body> getBody() {
      return result;
    }
  }

  /** RFC 3986 percent-encoding of one path segment (a '/' inside a revision name included). */
  static String encodeSegment(String segment) {
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // the scratch volume is discarded with the pod anyway
    }
  }
}
