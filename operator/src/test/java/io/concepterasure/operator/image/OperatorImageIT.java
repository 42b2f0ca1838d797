package io.concepterasure.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator image (target/operator-image.tar, built by Jib in {@code package}) run as the
 * cluster runs it: unpacked by umoci and started by runc as uid 65532 on a read-only root with a
 * tmpfs /tmp ({@code tools/images/run.sh}), against a real kube-apiserver; its probes answer.
 */
class OperatorImageIT {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();

  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  static final Path ARCHIVE = Path.of("target", "operator-image.tar");
  static final String VERSION = System.getProperty("project.version");

  @BeforeAll
  static void needsRootAndTheImage() {
    // runc starts containers as root, as the kubelet does; CI runs as root.
    assumeTrue(
        "root".equals(System.getProperty("user.name")), "runc needs root: run the ITs as root");
    assertThat(ARCHIVE).as("./mvnw package builds it").exists();
  }

  @Test
  void isLabelledAndRunsAsTheNonRootUser() throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode index = json.readTree(entry("index.json"));
    assertThat(index.at("/manifests/0/annotations/org.opencontainers.image.ref.name").asText())
        .isEqualTo("ghcr.io/concepterasure/operator:" + VERSION);
    JsonNode manifest = json.readTree(entry(blob(index.at("/manifests/0/digest").asText())));
    JsonNode config = json.readTree(entry(blob(manifest.at("/config/digest").asText())));
    assertThat(config.at("/config/User").asText()).isEqualTo("65532:65532");
    assertThat(config.at("/config/Entrypoint").toString()).contains("/deployments/quarkus-run.jar");
    JsonNode labels = config.at("/config/Labels");
    assertThat(labels.path("org.opencontainers.image.version").asText()).isEqualTo(VERSION);
    assertThat(labels.path("org.opencontainers.image.revision").asText()).matches("[0-9a-f]{40}");
  }

  @Test
  void answersItsProbesAgainstTheApiServer(@TempDir Path dir) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, selfContained(API_SERVER.kubeConfigYaml()));
    // Readable by the container's user (65532), as a mounted Secret would be.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(kubeconfig, PosixFilePermissions.fromString("rw-r--r--"));
    String namespace = "ce-operator-image";
    API_SERVER
        .client()
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .serverSideApply();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Path.of("target", "operator-image-it.log");
    // The host's network namespace: the test API server listens on this machine's loopback.
    Process operator =
        new ProcessBuilder(
                List.of(
                    REPO.resolve("tools/images/run.sh").toString(),
                    "--host-network",
                    "--bind",
                    dir + ":/etc/ce-test:ro",
                    "--env",
                    "KUBECONFIG=/etc/ce-test/kubeconfig",
                    "--env",
                    "KUBERNETES_NAMESPACE=" + namespace,
                    "--env",
                    "QUARKUS_HTTP_PORT=" + port,
                    "--timeout",
                    "300",
                    ARCHIVE.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      for (String probe : List.of("/q/health/live", "/q/health/ready")) {
        URI uri = URI.create("http://127.0.0.1:" + port + probe);
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .failFast("the operator's container ended: see " + log, () -> !operator.isAlive())
            .until(
                () ->
                    http.send(
                                HttpRequest.newBuilder(uri).build(),
                                HttpResponse.BodyHandlers.ofString())
                            .statusCode()
                        == 200);
        String body =
            http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(body).as(probe).contains("\"status\": \"UP\"");
      }
      URI metrics = URI.create("http://127.0.0.1:" + port + "/q/metrics");
      assertThat(
              http.send(
                      HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString())
                  .body())
          .contains("jvm_memory_used_bytes");
      // It runs as 65532 on a read-only root: what it logged names no write failure.
      assertThat(Files.readString(log)).doesNotContain("Read-only file system");
    } finally {
      operator.destroy();
      if (!operator.waitFor(30, TimeUnit.SECONDS)) {
        operator.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * The kubeconfig with its certificate and key files inlined: the container sees none of the
   * host's files.
   */
  static String selfContained(String kubeconfig) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^(\\s*)(certificate-authority|client-certificate|client-key): (\\S+)$")
            .matcher(kubeconfig);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String data =
          Base64.getEncoder()
              .encodeToString(Files.readAllBytes(Path.of(m.group(3).replace("\"", ""))));
      m.appendReplacement(
          out, Matcher.quoteReplacement(m.group(1) + m.group(2) + "-data: " + data));
    }
    m.appendTail(out);
    return out.toString();
  }

  static String blob(String digest) {
    return "blobs/" + digest.replace(':', '/');
  }

  /** One file of the archive (index.json, a manifest or config blob), read by tar. */
  static byte[] entry(String name) throws Exception {
    Process p = new ProcessBuilder("tar", "-xOf", ARCHIVE.toString(), name).start();
    byte[] bytes = p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).as("tar -xOf %s %s", ARCHIVE, name).isZero();
    return bytes;
  }
}
