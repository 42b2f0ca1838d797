package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Helm chart, rendered by the real helm CLI (built by tools/helm/install.sh), installs the same
 * objects with the same privileges as manifests/, and the API server accepts them.
 */
class HelmChartTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  static final Path CHART = REPO.resolve("charts/concept-erasure-operator");
  static final String NAMESPACE = "concept-erasure-system";

  @Test
  void chartPassesHelmLint() throws Exception {
    String out = helm("lint", CHART.toString());
    assertThat(out).contains("1 chart(s) linted, 0 chart(s) failed");
  }

  @Test
  void chartInstallsWhatTheManifestsInstallWithTheSamePrivileges() throws Exception {
    KubernetesClient client = API_SERVER.client();
    List<HasMetadata> chart =
        client
            .load(
                new ByteArrayInputStream(
                    helm("template", "concept-erasure", CHART.toString(), "--namespace", NAMESPACE)
                        .getBytes(StandardCharsets.UTF_8)))
            .items();
    List<HasMetadata> manifests = new ArrayList<>();
    for (String file : List.of("rbac.yaml", "operator.yaml")) {
      manifests.addAll(load(client, REPO.resolve("manifests").resolve(file)));
    }

    assertThat(kindsAndNames(chart)).isEqualTo(kindsAndNames(manifests));
    assertThat(one(chart, ClusterRole.class).getRules())
        .isEqualTo(one(manifests, ClusterRole.class).getRules());
    assertThat(one(chart, Role.class).getRules()).isEqualTo(one(manifests, Role.class).getRules());
    var chartPod = one(chart, Deployment.class).getSpec().getTemplate().getSpec();
    var manifestPod = one(manifests, Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(chartPod.getSecurityContext()).isEqualTo(manifestPod.getSecurityContext());
    assertThat(chartPod.getContainers().get(0).getSecurityContext())
        .isEqualTo(manifestPod.getContainers().get(0).getSecurityContext());
    assertThat(chartPod.getContainers().get(0).getEnv())
        .isEqualTo(manifestPod.getContainers().get(0).getEnv());
    assertThat(chartPod.getContainers().get(0).getResources())
        .isEqualTo(manifestPod.getContainers().get(0).getResources());

    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .serverSideApply();
    for (HasMetadata item : chart) {
      assertThat(client.resource(item).serverSideApply()).as(item.getKind()).isNotNull();
    }
  }

  @Test
  void watchedNamespacesReachTheOperator() throws Exception {
    List<HasMetadata> chart =
        API_SERVER
            .client()
            .load(
                new ByteArrayInputStream(
                    helm(
                            "template",
                            "concept-erasure",
                            CHART.toString(),
                            "--namespace",
                            NAMESPACE,
                            "--set",
                            "watchNamespaces={team-a,team-b}")
                        .getBytes(StandardCharsets.UTF_8)))
            .items();
    assertThat(
            one(chart, Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("QUARKUS_OPERATOR_SDK_NAMESPACES");
              assertThat(e.getValue()).isEqualTo("team-a,team-b");
            });
  }

  private static Set<String> kindsAndNames(List<HasMetadata> items) {
    return items.stream()
        .map(i -> i.getKind() + "/" + i.getMetadata().getName())
        .collect(Collectors.toSet());
  }

  private static <T extends HasMetadata> T one(List<HasMetadata> items, Class<T> type) {
    List<T> found = items.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static List<HasMetadata> load(KubernetesClient client, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return client.load(in).items();
    }
  }

  @Test
  void theSchemaRefusesUnknownAndMistypedValues() throws Exception {
    for (String bad :
        List.of(
            "replicaCount=two",
            "replicaCount=0",
            "trainerImag=typo",
            "image.pullPolicy=Sometimes",
            "imagePullFailureTimeout=ten minutes",
            "watchNamespaces={Team_A}")) {
      String err = helmFailing("template", "x", CHART.toString(), "--set", bad);
      assertThat(err).as(bad).contains("values don't meet the specifications of the schema");
    }
    // Good values pass, both forms of duration among them.
    assertThat(
            helm(
                "template",
                "x",
                CHART.toString(),
                "--set",
                "watchNamespaces={team-a,team-b}",
                "--set",
                "imagePullFailureTimeout=PT90S",
                "--set",
                "crashLoopFailureTimeout=15m"))
        .contains("team-a,team-b");
  }

  /** Runs helm expecting it to fail; returns what it wrote to stderr. */
  private static String helmFailing(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("helm.binary", "helm"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
    process.getInputStream().readAllBytes();
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("helm %s should fail", String.join(" ", args)).isNotZero();
    return err;
  }

  private static String helm(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("helm.binary", "helm"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
    byte[] out = process.getInputStream().readAllBytes();
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("helm %s failed: %s", String.join(" ", args), err).isZero();
    return new String(out, StandardCharsets.UTF_8);
  }
}
