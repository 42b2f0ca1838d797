package io.concepterasure.trainer.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer image (target/trainer-image.tar, built by Jib in {@code package}) run as the cluster
 * runs it: unpacked by umoci and started by runc as uid 65532 on a read-only root with tmpfs
 * /scratch and /tmp, in an empty network namespace ({@code tools/images/run.sh}).
 */
class TrainerImageIT {
  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  static final Path ARCHIVE = Path.of("target", "trainer-image.tar");
  static final String VERSION = buildVersion();

  /** The version the build stamped (build.properties), as the image's tag and label carry it. */
  static String buildVersion() {
    Properties build = new Properties();
    try (InputStream in =
        TrainerImageIT.class.getResourceAsStream("/io/concepterasure/trainer/build.properties")) {
      build.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return build.getProperty("version");
  }

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
        .isEqualTo("ghcr.io/concepterasure/trainer:" + VERSION + "-cpu");
    JsonNode manifest = json.readTree(entry(blob(index.at("/manifests/0/digest").asText())));
    JsonNode config = json.readTree(entry(blob(manifest.at("/config/digest").asText())));
    assertThat(config.at("/config/User").asText()).isEqualTo("65532:65532");
    assertThat(config.at("/config/Cmd").toString()).isEqualTo("[\"erase\"]");
    assertThat(config.at("/config/Entrypoint").toString())
        .contains("-Dai.djl.offline=true", "-XX:MaxRAMPercentage=25");
    JsonNode labels = config.at("/config/Labels");
    assertThat(labels.path("org.opencontainers.image.version").asText()).isEqualTo(VERSION);
    assertThat(labels.path("org.opencontainers.image.revision").asText()).matches("[0-9a-f]{40}");
    assertThat(labels.path("org.opencontainers.image.source").asText()).startsWith("https://");
  }

  @Test
  void printsTheVersionTheBuildStamped() throws Exception {
    Result r = run(List.of(), "--version");
    assertThat(r.status).as(r.output).isZero();
    assertThat(r.output)
        .containsPattern("trainer " + VERSION.replace(".", "\\.") + " \\([0-9a-f]{40}\\)");
  }

  @Test
  void generatesFromTheToyModelOnAReadOnlyRootWithoutANetwork(@TempDir Path out) throws Exception {
    // The output folder is the only writable path besides the tmpfs volumes; uid 65532 writes it.
    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path model = REPO.resolve("examples/models/toy-shapes").toAbsolutePath();
    Result r =
        run(
            List.of("--bind", model + ":/model:ro", "--bind", out + ":/out"),
            "generate",
            "--model",
            "/model",
            "--prompt",
            "a red circle",
            "--seed",
            "7",
            "--steps",
            "5",
            "--output",
            "/out/red-circle.png");
    assertThat(r.status).as(r.output).isZero();
    BufferedImage image = ImageIO.read(out.resolve("red-circle.png").toFile());
    assertThat(image).as(r.output).isNotNull();
    assertThat(image.getWidth()).isEqualTo(32);
    // Written by the container's user, not by root.
    assertThat(Files.getOwner(out.resolve("red-circle.png")).getName())
        .isIn("65532", "nonroot", "trainer");
  }

  @Test
  void aGpuJobOnTheCpuImageFailsAtOnceWithOneLine() throws Exception {
    // What the operator sets when the Job requests nvidia.com/gpu: 1.
    Result r = run(List.of("--env", "CE_GPUS=1"), "erase");
    assertThat(r.status).as(r.output).isEqualTo(2);
    assertThat(r.output)
        .containsPattern(
            "(?m)^invalid input \\(device\\): the Job requested 1 GPU\\(s\\) \\(resources.gpus\\)"
                + " but no GPU is visible: this is the CPU image.*$");
  }

  /**
   * DJL looks up the cloud metadata address (169.254.169.254) at start-up unless it is offline. The
   * image runs in a network namespace holding only loopback and that address, where a listener
   * counts connections; a connection the test makes itself shows that the listener would count one.
   */
  @Test
  void neverConnectsToTheCloudMetadataAddress(@TempDir Path dir) throws Exception {
    String ns = "ce-offline-" + ProcessHandle.current().pid();
    Path count = dir.resolve("connections");
    Path listenerSource = dir.resolve("Listener.java");
    Files.writeString(
        listenerSource,
        """
        import java.net.*;
        import java.nio.file.*;
        public class Listener {
          public static void main(String[] a) throws Exception {
            try (ServerSocket s = new ServerSocket(80, 50, InetAddress.getByName("169.254.169.254"))) {
              Files.writeString(Path.of(a[0]), "0");
              for (int n = 1; ; n++) {
                s.accept().close();
                Files.writeString(Path.of(a[0]), Integer.toString(n));
              }
            }
          }
        }
        """);
    sh("ip", "netns", "add", ns);
    Process listener = null;
    try {
      sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
      sh("ip", "netns", "exec", ns, "ip", "addr", "add", "169.254.169.254/32", "dev", "lo");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      listener =
          new ProcessBuilder(
                  "ip", "netns", "exec", ns, java, listenerSource.toString(), count.toString())
              .redirectErrorStream(true)
              .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(count) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      sh("ip", "netns", "exec", ns, "bash", "-c", "exec 3<>/dev/tcp/169.254.169.254/80");
      Thread.sleep(500);
      assertThat(Files.readString(count)).as("the listener counts a connection").isEqualTo("1");

      Path model = REPO.resolve("examples/models/toy-shapes").toAbsolutePath();
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
      Result r =
          run(
              List.of(
                  "--netns",
                  "/run/netns/" + ns,
                  "--bind",
                  model + ":/model:ro",
                  "--bind",
                  dir + ":/out"),
              "generate",
              "--model",
              "/model",
              "--prompt",
              "a blue square",
              "--steps",
              "2",
              "--output",
              "/out/blue-square.png");
      assertThat(r.status).as(r.output).isZero();
      assertThat(Files.readString(count)).as("connections after the trainer ran").isEqualTo("1");
    } finally {
      if (listener != null) {
        listener.destroyForcibly().waitFor();
      }
      sh("ip", "netns", "delete", ns);
    }
  }

  static void sh(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
  }

  record Result(int status, String output) {}

  static Result run(List<String> options, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("tools/images/run.sh").toString());
    command.addAll(options);
    command.add(ARCHIVE.toString());
    command.add("--");
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    return new Result(p.exitValue(), new String(output, StandardCharsets.UTF_8));
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
