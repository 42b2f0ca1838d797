package io.concepterasure.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.operator.testing.KubeApiServerExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a user sees with kubectl 1.34.4 (built by tools/envtest/install.sh): short name, columns,
 * explain.
 */
class KubectlTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final Path KUBECTL =
      Path.of(
          System.getProperty("user.home"),
          ".kubeapitest",
          "k8s",
          KubeApiServerExtension.K8S_VERSION + "-linux-amd64",
          "kubectl");
  static final Path ROOT = Path.of(System.getProperty("repo.root", ".."));
  private static Path kubeconfig;

  @BeforeAll
  static void kubeconfig() throws IOException {
    kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
    Files.writeString(kubeconfig, API_SERVER.kubeConfigYaml());
  }

  @Test
  void applyingTheSampleAndListingItByShortName() throws Exception {
    String namespace = API_SERVER.newNamespace("kubectl");
    assertThat(
            kubectl(
                "apply",
                "-n",
                namespace,
                "-f",
                ROOT.resolve("manifests/samples/erase-nudity.yaml").toString()))
        .contains("concepterasure.concepterasure.io/erase-nudity created");
    String listed = kubectl("get", "cerase", "-n", namespace);
    assertThat(listed.lines().findFirst().orElseThrow())
        .contains("NAME")
        .contains("PHASE")
        .contains("PROGRESS")
        .contains("AGE");
    assertThat(listed).contains("erase-nudity");
    // Applying the same file again changes nothing.
    assertThat(
            kubectl(
                "apply",
                "-n",
                namespace,
                "-f",
                ROOT.resolve("manifests/samples/erase-nudity.yaml").toString()))
        .contains("erase-nudity unchanged");
  }

  @Test
  void explainDescribesTheFields() throws Exception {
    // API discovery can trail the CRD's Established condition by a moment.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> kubectl("api-resources", "--api-group=concepterasure.io").contains("cerase"));
    assertThat(kubectl("explain", "cerase.spec.method.eta"))
        .contains("Guidance strength toward the alternative");
    assertThat(kubectl("explain", "cerase.status.failure.exitCode"))
        .contains("Exit code of the trainer container");
    assertThat(kubectl("explain", "cerase.spec")).contains("Immutable once created except suspend");
  }

  private static String kubectl(String... args) throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of(KUBECTL.toString(), "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("kubectl " + String.join(" ", args) + ":\n" + out).isZero();
    return out;
  }
}
