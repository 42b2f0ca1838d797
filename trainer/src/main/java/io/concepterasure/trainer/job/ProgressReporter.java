package io.concepterasure.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Reports training progress to the resource's {@code status.progress} with a JSON merge patch on
 * its status subresource, as the pod's ServiceAccount (whose Role allows exactly that). At most
 * once per interval while training, and once at the end. A failed report is logged and never fails
 * the training: progress is informative only.
 *
 * <p>The JDK's HTTP client with the mounted token and CA, not fabric8's client: one PATCH does not
 * justify the Kubernetes model jars in the trainer image.
 */
public final class ProgressReporter implements AutoCloseable {
  public static final String ENV_RESOURCE_NAME = "CE_RESOURCE_NAME";
  public static final String ENV_RESOURCE_NAMESPACE = "CE_RESOURCE_NAMESPACE";
  public static final Path SERVICE_ACCOUNT_DIR =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final URI statusUri;
  private final Path tokenFile;
  private final Duration interval;
  private final Clock clock;
  private final PrintWriter log;
  private CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
  private Instant lastReport;
  private Instant runStart;
  private int firstIteration;
  private int total;
  private Map<String, Object> last;
  private final AtomicBoolean warned = new AtomicBoolean();

  /**
   * @param apiServer the API server's base URL
   * @param serviceAccountDir a folder with {@code token} (re-read for each report: kubelet rotates
   *     it) and {@code ca.crt}
   */
  public ProgressReporter(
      URI apiServer,
      Path serviceAccountDir,
      String namespace,
      String name,
      Duration interval,
      Clock clock,
      PrintWriter log)
      throws IOException {
    this.http =
        HttpClient.newBuilder()
            .sslContext(sslContext(serviceAccountDir.resolve("ca.crt")))
            .connectTimeout(TIMEOUT)
            .build();
    this.statusUri =
        URI.create(
            stripSlash(apiServer.toString())
                + "/apis/concepterasure.io/v1alpha1/namespaces/"
                + namespace
                + "/concepterasures/"
                + name
                + "/status");
    this.tokenFile = serviceAccountDir.resolve("token");
    this.interval = interval;
    this.clock = clock;
    this.log = log;
  }

  /**
   * A reporter when the trainer runs in the operator's Job (resource name and namespace set, a
   * ServiceAccount token mounted, the API server's address in the environment kubelet sets).
   */
  public static Optional<ProgressReporter> fromEnvironment(
      Map<String, String> environment, Path serviceAccountDir, PrintWriter log) {
    String name = environment.get(ENV_RESOURCE_NAME);
    String namespace = environment.get(ENV_RESOURCE_NAMESPACE);
    String host = environment.get("KUBERNETES_SERVICE_HOST");
    String port = environment.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    if (name == null
        || namespace == null
        || host == null
        || !Files.isRegularFile(serviceAccountDir.resolve("token"))) {
      return Optional.empty();
    }
    String authority = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    try {
      return Optional.of(
          new ProgressReporter(
              URI.create("https://" + authority),
              serviceAccountDir,
              namespace,
              name,
              DEFAULT_INTERVAL,
              Clock.systemUTC(),
              log));
    } catch (IOException | RuntimeException e) {
      log.println(
          "warning: progress will not be reported to the resource's status: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** A listener for a run that trains iterations {@code firstIteration}..{@code total}. */
  public BiConsumer<Integer, Map<String, Double>> start(int firstIteration, int total) {
    this.firstIteration = firstIteration;
    this.total = total;
    this.runStart = clock.instant();
    return this::update;
  }

  /**
   * Reports that {@code iteration} (0-based) finished; sends only if the interval has passed and
   * none is in flight.
   */
  public synchronized void update(int iteration, Map<String, Double> losses) {
    Instant now = clock.instant();
    last = progress(iteration + 1, losses.get("loss"), now);
    if (lastReport != null && Duration.between(lastReport, now).compareTo(interval) < 0
        || !inFlight.isDone()) {
      return;
    }
    lastReport = now;
    inFlight = send(last);
  }

  /**
   * Sends the last progress and waits for it (bounded), so the final numbers land before the pod
   * exits.
   */
  public synchronized void finish() {
    try {
      inFlight.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (last != null) {
        send(last).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      warn("the final progress report did not complete: " + e);
    }
  }

  /** Waits for the report in flight, if any (tests). */
  void awaitInFlight() throws Exception {
    CompletableFuture<Void> current;
    synchronized (this) {
      current = inFlight;
    }
    current.get(TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
  }

  private Map<String, Object> progress(int done, Double loss, Instant now) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("iteration", done);
    p.put("totalIterations", total);
    p.put("percent", total == 0 ? 100 : (int) Math.floor(100.0 * done / total));
    if (loss != null && Double.isFinite(loss)) {
      p.put("loss", loss);
    }
    int doneThisRun = done - firstIteration;
    long elapsedMillis = Duration.between(runStart, now).toMillis();
    if (doneThisRun > 0 && elapsedMillis > 0) {
      double secondsPerIteration = elapsedMillis / 1000.0 / doneThisRun;
      p.put("secondsRemaining", Math.round(secondsPerIteration * (total - done)));
    }
    p.put("updatedAt", now.truncatedTo(ChronoUnit.SECONDS).toString());
    return p;
  }

  private CompletableFuture<Void> send(Map<String, Object> progress) {
    HttpRequest request;
    try {
      String body = JSON.writeValueAsString(Map.of("status", Map.of("progress", progress)));
      String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      request =
          HttpRequest.newBuilder(statusUri)
              .timeout(TIMEOUT)
              .header("Authorization", "Bearer " + token)
              .header("Content-Type", "application/merge-patch+json")
              .header("Accept", "application/json")
              .method("PATCH", HttpRequest.BodyPublishers.ofString(body))
              .build();
    } catch (IOException e) {
      warn("cannot read the ServiceAccount token: " + e.getMessage());
      return CompletableFuture.completedFuture(null);
    }
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle(
            (response, error) -> {
              if (error != null) {
                warn("PATCH " + statusUri.getPath() + " failed: " + error);
              } else if (response.statusCode() / 100 != 2) {
                warn(
                    "PATCH "
                        + statusUri.getPath()
                        + " answered "
                        + response.statusCode()
                        + ": "
                        + abbreviate(response.body()));
              }
              return null;
            });
  }

  /**
   * The first failure is logged in full, later ones not at all: a log line per iteration helps
   * nobody.
   */
  private void warn(String message) {
    // Not synchronized: called from the HTTP client's thread while finish() waits holding the lock.
    if (warned.compareAndSet(false, true)) {
      log.println(
          "warning: cannot report progress to the resource's status (training goes on): "
              + message);
    }
  }

  private static String abbreviate(String body) {
    return body.length() <= 300 ? body : body.substring(0, 300) + "...";
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static SSLContext sslContext(Path caFile) throws IOException {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + i++, ca);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException(caFile + ": not a usable CA certificate: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    // HttpClient has no close before Java 21; its threads are daemons.
  }
}
