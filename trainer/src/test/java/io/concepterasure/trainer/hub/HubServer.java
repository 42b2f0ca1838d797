package io.concepterasure.trainer.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A stand-in for the Hugging Face Hub on loopback, in the Hub's URL layout and answers: {@code GET
 * /api/models/{repo}/revision/{revision}?blobs=true} (the commit and every file with size, git blob
 * id, and LFS sha256 for weights), {@code GET /{repo}/resolve/{revision}/{path}} (small files
 * served, LFS files redirected with 302 to a "CDN", a second server reached as {@code localhost}
 * instead of {@code 127.0.0.1}, so a different host), Range requests, {@code X-Error-Code} headers.
 * One repository; answers can be made to fail on purpose ({@link Fault}) and every request is
 * logged.
 */
public final class HubServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LFS = Pattern.compile(".*\\.(safetensors|bin|ckpt|msgpack|onnx)");

  /** A failure served instead of the next answer to one path. */
  public sealed interface Fault {}

  /** An error status, with the Hub's error code and a Retry-After (either may be null). */
  public record Status(int status, String errorCode, String retryAfter) implements Fault {}

  /** The full Content-Length announced, {@code after} bytes sent, the connection closed. */
  public record Cut(long after) implements Fault {}

  /** {@code after} bytes sent, then nothing for {@code millis}, then the connection closed. */
  public record Stall(long after, long millis) implements Fault {}

  /** The whole body with one byte changed. */
  public record Corrupt() implements Fault {}

  final String repo;
  final String commit;
  public final Map<String, byte[]> files = new TreeMap<>();
  public final List<String> requests = new CopyOnWriteArrayList<>();
  private final Map<String, Deque<Fault>> faults = new ConcurrentHashMap<>();
  private final Map<String, String> tags = new ConcurrentHashMap<>();
  private final HttpServer api;
  private final HttpServer cdn;
  private final ExecutorService executor = Executors.newCachedThreadPool();

  /** A token the server requires, or null: a public repository. */
  public volatile String token;

  /** A gated repository answers 403 to every request with a token. */
  public volatile boolean gated;

  public HubServer(String repo, String commit) throws IOException {
    this.repo = repo;
    this.commit = commit;
    api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    api.createContext("/", this::api);
    cdn.createContext("/", this::cdn);
    api.setExecutor(executor);
    cdn.setExecutor(executor);
    api.start();
    cdn.start();
  }

  /** Every file under {@code folder}, at its relative path. */
  public HubServer serve(Path folder) throws IOException {
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        files.put(folder.relativize(file).toString().replace('\\', '/'), Files.readAllBytes(file));
      }
    }
    return this;
  }

  public HubServer tag(String name) {
    tags.put(name, commit);
    return this;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + api.getAddress().getPort());
  }

  /**
   * Serves {@code fault} instead of the next answer to {@code path} ("info" for the model info).
   */
  public void fail(String path, Fault... next) {
    faults.computeIfAbsent(path, p -> new ArrayDeque<>()).addAll(List.of(next));
  }

  /** The logged requests for one repository file (API and CDN), e.g. "GET unet/x range=0". */
  List<String> requestsFor(String path) {
    return requests.stream().filter(r -> r.contains(" " + path + " ")).toList();
  }

  private Fault nextFault(String path) {
    Deque<Fault> queue = faults.get(path);
    synchronized (this) {
      return queue == null ? null : queue.pollFirst();
    }
  }

  private void api(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      Matcher info = Pattern.compile("/api/models/(.+)/revision/([^/]+)").matcher(path);
      Matcher resolve = Pattern.compile("/(.+?/.+?)/resolve/([^/]+)/(.+)").matcher(path);
      if (info.matches()) {
        requests.add("API info " + decode(info.group(2)) + " auth=" + (auth != null));
        if (refused(exchange, info.group(1), auth)) {
          return;
        }
        String revision = resolveRevision(decode(info.group(2)));
        if (revision == null) {
          error(exchange, 404, "RevisionNotFound", "Invalid rev id: " + decode(info.group(2)));
          return;
        }
        if (served(exchange, "info")) {
          return;
        }
        byte[] body = JSON.writeValueAsBytes(modelInfo());
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        return;
      }
      if (resolve.matches()) {
        String file = decode(resolve.group(3));
        requests.add(
            "API " + file + " range=" + rangeStart(exchange) + " auth=" + (auth != null) + " ");
        if (refused(exchange, resolve.group(1), auth)) {
          return;
        }
        if (resolveRevision(decode(resolve.group(2))) == null) {
          error(exchange, 404, "RevisionNotFound", "Invalid rev id");
          return;
        }
        byte[] content = files.get(file);
        if (content == null) {
          error(exchange, 404, "EntryNotFound", file + " does not exist on \"" + commit + "\"");
          return;
        }
        if (LFS.matcher(file).matches()) {
          // As the Hub: large files live in a content-addressed store behind a signed URL.
          exchange.getResponseHeaders().set("X-Repo-Commit", commit);
          exchange
              .getResponseHeaders()
              .set(
                  "Location",
                  "http://localhost:"
                      + cdn.getAddress().getPort()
                      + "/blobs/"
                      + sha256(content)
                      + "?file="
                      + java.net.URLEncoder.encode(file, StandardCharsets.UTF_8)
                      + "&signature=test");
          exchange.sendResponseHeaders(302, -1);
          return;
        }
        send(exchange, file, content);
        return;
      }
      error(exchange, 404, null, "no route " + path);
    }
  }

  private void cdn(HttpExchange exchange) throws IOException {
    try (exchange) {
      String query = exchange.getRequestURI().getRawQuery();
      String file = decode(query.replaceAll(".*file=([^&]*).*", "$1"));
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      requests.add(
          "CDN " + file + " range=" + rangeStart(exchange) + " auth=" + (auth != null) + " ");
      byte[] content = files.get(file);
      if (content == null
          || !exchange.getRequestURI().getPath().equals("/blobs/" + sha256(content))) {
        error(exchange, 404, null, "no such blob");
        return;
      }
      send(exchange, file, content);
    }
  }

  /** 401 without the token the server requires (or with another), 403 when gated. */
  private boolean refused(HttpExchange exchange, String repository, String auth)
      throws IOException {
    boolean bearer = auth != null && auth.startsWith("Bearer ");
    if (!repo.equals(repository)) {
      // The Hub does not tell an anonymous caller whether a private repository exists.
      if (bearer) {
        error(exchange, 404, "RepoNotFound", "Repository Not Found for url");
      } else {
        error(exchange, 401, "RepoNotFound", "Repository Not Found for url");
      }
      return true;
    }
    if (token != null && !bearer) {
      error(exchange, 401, "RepoNotFound", "Repository Not Found for url");
      return true;
    }
    if (token != null && !auth.equals("Bearer " + token)) {
      error(exchange, 401, null, "Invalid credentials in Authorization header");
      return true;
    }
    if (gated) {
      error(
          exchange,
          403,
          "GatedRepo",
          "Access to model " + repo + " is restricted and you are not in the authorized list");
      return true;
    }
    return false;
  }

  private String resolveRevision(String revision) {
    if (revision.equals("main") || revision.equals(commit)) {
      return commit;
    }
    return tags.get(revision);
  }

  /** Sends a prepared fault for {@code key}, if any; true when it did. */
  private boolean served(HttpExchange exchange, String key) throws IOException {
    Fault fault = nextFault(key);
    if (fault instanceof Status s) {
      if (s.retryAfter() != null) {
        exchange.getResponseHeaders().set("Retry-After", s.retryAfter());
      }
      error(exchange, s.status(), s.errorCode(), "injected");
      return true;
    }
    return false;
  }

  private void send(HttpExchange exchange, String file, byte[] content) throws IOException {
    Fault fault = nextFault(file);
    if (fault instanceof Status s) {
      if (s.retryAfter() != null) {
        exchange.getResponseHeaders().set("Retry-After", s.retryAfter());
      }
      error(exchange, s.status(), s.errorCode(), "injected");
      return;
    }
    long start = rangeStart(exchange);
    if (start > 0) {
      exchange
          .getResponseHeaders()
          .set(
              "Content-Range",
              "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
    }
    byte[] body = java.util.Arrays.copyOfRange(content, (int) start, content.length);
    if (fault instanceof Corrupt) {
      body[body.length / 2] ^= 1;
    }
    exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
    exchange.sendResponseHeaders(start > 0 ? 206 : 200, body.length);
    OutputStream out = exchange.getResponseBody();
    if (fault instanceof Cut c) {
      out.write(body, 0, (int) Math.min(c.after(), body.length));
      out.flush();
      abandon(exchange);
      return;
    }
    if (fault instanceof Stall st) {
      out.write(body, 0, (int) Math.min(st.after(), body.length));
      out.flush();
      try {
        Thread.sleep(st.millis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      abandon(exchange);
      return;
    }
    out.write(body);
  }

  /** Drops the connection with the body short of its Content-Length. */
  private static void abandon(HttpExchange exchange) {
    try {
      exchange.getResponseBody().close();
    } catch (IOException e) {
      // expected: fewer bytes than announced
    }
  }

  private static long rangeStart(HttpExchange exchange) {
    String range = exchange.getRequestHeaders().getFirst("Range");
    if (range == null) {
      return 0;
    }
    Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
    return m.matches() ? Long.parseLong(m.group(1)) : 0;
  }

  private static void error(HttpExchange exchange, int status, String code, String message)
      throws IOException {
    if (code != null) {
      exchange.getResponseHeaders().set("X-Error-Code", code);
    }
    exchange.getResponseHeaders().set("X-Error-Message", message);
    byte[] body = JSON.writeValueAsBytes(Map.of("error", message));
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  /** The model info as the Hub gives it with blobs=true. */
  private ObjectNode modelInfo() {
    ObjectNode root = JSON.createObjectNode();
    root.put("_id", "0123456789abcdef01234567");
    root.put("id", repo);
    root.put("modelId", repo);
    root.put("sha", commit);
    root.put("private", token != null);
    root.put("gated", gated ? "manual" : "false");
    root.put("library_name", "diffusers");
    ArrayNode siblings = root.putArray("siblings");
    files.forEach(
        (path, content) -> {
          ObjectNode s = siblings.addObject();
          s.put("rfilename", path);
          if (LFS.matcher(path).matches()) {
            String pointer =
                "version https://git-lfs.github.com/spec/v1\noid sha256:"
                    + sha256(content)
                    + "\nsize "
                    + content.length
                    + "\n";
            byte[] p = pointer.getBytes(StandardCharsets.UTF_8);
            s.put("blobId", gitBlobId(p));
            s.put("size", content.length);
            s.putObject("lfs")
                .put("sha256", sha256(content))
                .put("size", content.length)
                .put("pointerSize", p.length);
          } else {
            s.put("blobId", gitBlobId(content));
            s.put("size", content.length);
          }
        });
    return root;
  }

  static String sha256(byte[] content) {
    return digest("SHA-256", new byte[0], content);
  }

  static String gitBlobId(byte[] content) {
    return digest(
        "SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII), content);
  }

  private static String digest(String algorithm, byte[] header, byte[] content) {
    try {
      MessageDigest d = MessageDigest.getInstance(algorithm);
      d.update(header);
      return HexFormat.of().formatHex(d.digest(content));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    api.stop(0);
    cdn.stop(0);
    executor.shutdownNow();
  }
}
