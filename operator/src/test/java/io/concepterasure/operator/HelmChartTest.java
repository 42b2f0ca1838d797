package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Helm chart, rendered by the real helm CLI (built by tools/helm/install.sh), installs the same
 * objects with the same privileges as manifests/, and the API server accepts them; what the chart
 * adds for platform teams (release-scoped names, a namespaced mode, digests, NetworkPolicy, metrics
 * Service, ServiceMonitor, PodDisruptionBudget, the schema) renders as documented.
 */
class HelmChartTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  static final Path CHART = REPO.resolve("charts/concept-erasure-operator");
  static final String NAMESPACE = "concept-erasure-system";
  // A release named like the chart gets the names of manifests/ (the fullname helper).
  static final String RELEASE = "concept-erasure-operator";
  static final String DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

  @Test
  void chartPassesHelmLint() throws Exception {
    for (List<String> values :
        List.of(
            List.<String>of(),
            List.of("--set", "watchNamespaces={team-a,team-b}"),
            List.of("--set", "serviceMonitor.enabled=true", "--set", "replicaCount=1"))) {
      List<String> args = new ArrayList<>(List.of("lint", CHART.toString()));
      args.addAll(values);
      String out = helm(args.toArray(String[]::new));
      assertThat(out).as("%s", values).contains("1 chart(s) linted, 0 chart(s) failed");
    }
  }

  @Test
  void chartInstallsWhatTheManifestsInstallWithTheSamePrivileges() throws Exception {
    KubernetesClient client = API_SERVER.client();
    List<HasMetadata> chart = render(RELEASE, NAMESPACE);
    List<HasMetadata> manifests = new ArrayList<>();
    for (String file : List.of("rbac.yaml", "operator.yaml")) {
      manifests.addAll(load(client, REPO.resolve("manifests").resolve(file)));
    }

    // Cluster-scoped names carry the namespace; the chart adds what only it offers.
    Set<String> expected =
        manifests.stream()
            .map(
                i ->
                    i.getKind()
                        + "/"
                        + i.getMetadata().getName()
                        + (i.getMetadata().getNamespace() == null ? "-" + NAMESPACE : ""))
            .collect(Collectors.toCollection(HashSet::new));
    expected.addAll(
        List.of(
            "Service/" + RELEASE + "-metrics",
            "NetworkPolicy/" + RELEASE,
            "PodDisruptionBudget/" + RELEASE));
    assertThat(kindsAndNames(chart)).isEqualTo(expected);
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
    assertThat(chartPod.getContainers().get(0).getImage())
        .isEqualTo(manifestPod.getContainers().get(0).getImage());

    createNamespace(NAMESPACE);
    for (HasMetadata item : chart) {
      assertThat(client.resource(item).serverSideApply()).as(item.getKind()).isNotNull();
    }
    // The operator's ServiceAccount may do in any namespace what it needs, and no more.
    String operator = "system:serviceaccount:" + NAMESPACE + ":" + RELEASE;
    assertThat(allowed(operator, "list", "batch", "jobs", "anywhere")).isTrue();
    assertThat(allowed(operator, "list", "", "secrets", "anywhere")).isFalse();
  }

  @Test
  void twoReleasesDoNotCollide() throws Exception {
    // Two releases in one namespace, and a release of the same name in another namespace.
    List<List<HasMetadata>> releases =
        List.of(
            render("alpha", "ops", "--set", "serviceMonitor.enabled=true"),
            render("beta", "ops", "--set", "serviceMonitor.enabled=true"),
            render("alpha", "ops-2", "--set", "serviceMonitor.enabled=true"));
    Set<String> seen = new HashSet<>();
    for (List<HasMetadata> release : releases) {
      for (HasMetadata item : release) {
        String key =
            item.getKind()
                + "/"
                + item.getMetadata().getNamespace()
                + "/"
                + item.getMetadata().getName();
        assertThat(seen.add(key)).as("%s is made by two releases", key).isTrue();
      }
    }
    // Every selector picks only its own release's pods.
    Map<String, String> alphaPods = podLabels(releases.get(0));
    Map<String, String> betaPods = podLabels(releases.get(1));
    for (Map<String, String> selector : selectors(releases.get(0))) {
      assertThat(alphaPods).as("alpha's own pods").containsAllEntriesOf(selector);
      assertThat(betaPods.entrySet().containsAll(selector.entrySet()))
          .as("alpha's selector %s picks beta's pods", selector)
          .isFalse();
    }
    // Each release elects on its own Lease; a release named like the chart on manifests/' one.
    Set<String> leases = new HashSet<>();
    for (List<HasMetadata> release : releases.subList(0, 2)) {
      leases.add(env(operatorContainer(release), "CONCEPTERASURE_LEASE_NAME"));
    }
    assertThat(leases)
        .containsExactlyInAnyOrder(
            "alpha-concept-erasure-operator-lease", "beta-concept-erasure-operator-lease");
    assertThat(
            env(
                operatorContainer(render("concept-erasure-operator", "ops")),
                "CONCEPTERASURE_LEASE_NAME"))
        .isEqualTo("concept-erasure-operator-lease");
    // Each binding grants to its own release's ServiceAccount.
    for (List<HasMetadata> release : releases) {
      String serviceAccount =
          one(release, Deployment.class).getSpec().getTemplate().getSpec().getServiceAccountName();
      assertThat(one(release, ClusterRoleBinding.class).getSubjects())
          .singleElement()
          .satisfies(s -> assertThat(s.getName()).isEqualTo(serviceAccount));
      assertThat(one(release, ClusterRoleBinding.class).getRoleRef().getName())
          .isEqualTo(one(release, ClusterRole.class).getMetadata().getName());
    }
  }

  @Test
  void theChartsCrdIsACopyOfCrds() throws Exception {
    Path chartCrds = CHART.resolve("crds");
    assertThat(Files.isSymbolicLink(chartCrds)).as("a symlink breaks a copied chart").isFalse();
    assertThat(fileNames(chartCrds))
        .as("tools/update-crds.sh copies crds/ into the chart")
        .isEqualTo(fileNames(REPO.resolve("crds")))
        .isNotEmpty();
    for (String name : fileNames(chartCrds)) {
      assertThat(Files.readAllBytes(chartCrds.resolve(name)))
          .as("%s differs from crds/: run tools/update-crds.sh", name)
          .isEqualTo(Files.readAllBytes(REPO.resolve("crds").resolve(name)));
    }
  }

  @Test
  void imagesMayBePinnedByDigest() throws Exception {
    Container tagged = operatorContainer(render(RELEASE, NAMESPACE));
    assertThat(tagged.getImage())
        .isEqualTo("ghcr.io/concepterasure/operator:" + System.getProperty("project.version"));

    Container pinned =
        operatorContainer(
            render(
                RELEASE,
                NAMESPACE,
                "--set",
                "image.digest=" + DIGEST,
                "--set",
                "trainerImageDigest=" + DIGEST,
                "--set",
                "trainerGpuImage=registry.local:5000/team/trainer:2.0-cuda",
                "--set",
                "trainerGpuImageDigest=" + DIGEST));
    assertThat(pinned.getImage()).isEqualTo("ghcr.io/concepterasure/operator@" + DIGEST);
    assertThat(env(pinned, "CONCEPTERASURE_TRAINER_IMAGE"))
        .isEqualTo("ghcr.io/concepterasure/trainer@" + DIGEST);
    // A registry port is not a tag.
    assertThat(env(pinned, "CONCEPTERASURE_TRAINER_GPU_IMAGE"))
        .isEqualTo("registry.local:5000/team/trainer@" + DIGEST);
  }

  @Test
  void namespacedModeGrantsRolesInTheWatchedNamespacesOnly() throws Exception {
    KubernetesClient client = API_SERVER.client();
    String release = "scoped";
    String operatorNamespace = "scoped-system";
    List<HasMetadata> chart =
        render(release, operatorNamespace, "--set", "watchNamespaces={team-a,team-b}");
    assertThat(env(operatorContainer(chart), "QUARKUS_OPERATOR_SDK_NAMESPACES"))
        .isEqualTo("team-a,team-b");
    assertThat(chart).noneMatch(i -> i instanceof ClusterRole || i instanceof ClusterRoleBinding);

    ClusterRole clusterWide =
        one(load(client, REPO.resolve("manifests/rbac.yaml")), ClusterRole.class);
    String fullname = release + "-concept-erasure-operator";
    for (String watched : List.of("team-a", "team-b")) {
      Role role = named(chart, Role.class, watched, fullname);
      assertThat(role.getRules()).isEqualTo(clusterWide.getRules());
      RoleBinding binding = named(chart, RoleBinding.class, watched, fullname);
      assertThat(binding.getRoleRef().getName()).isEqualTo(fullname);
      assertThat(binding.getSubjects())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.getName()).isEqualTo(fullname);
                assertThat(s.getNamespace()).isEqualTo(operatorNamespace);
              });
    }
    // Leader election stays in the operator's own namespace.
    assertThat(named(chart, Role.class, operatorNamespace, fullname + "-leader-election"))
        .isNotNull();

    for (String namespace : List.of(operatorNamespace, "team-a", "team-b", "team-c")) {
      createNamespace(namespace);
    }
    for (HasMetadata item : chart) {
      client.resource(item).serverSideApply();
    }
    String operator = "system:serviceaccount:" + operatorNamespace + ":" + fullname;
    assertThat(allowed(operator, "create", "batch", "jobs", "team-a")).isTrue();
    assertThat(allowed(operator, "watch", "concepterasure.io", "concepterasures", "team-b"))
        .isTrue();
    assertThat(allowed(operator, "create", "batch", "jobs", "team-c"))
        .as("a namespace it does not watch")
        .isFalse();
    assertThat(allowed(operator, "list", "concepterasure.io", "concepterasures", null))
        .as("nothing cluster-wide")
        .isFalse();
  }

  @Test
  void theOperatorIsReachableOnlyForMetricsAndTalksOnlyToTheApiServerAndDns() throws Exception {
    List<HasMetadata> chart = render(RELEASE, NAMESPACE);
    Deployment deployment = one(chart, Deployment.class);
    Container container = operatorContainer(chart);
    // Metrics and health share the pod's one port (Quarkus's http server: /q/metrics, /q/health).
    assertThat(container.getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getName()).isEqualTo("http"));
    assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");

    NetworkPolicy policy = one(chart, NetworkPolicy.class);
    Map<String, String> pods = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(pods).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
    assertThat(policy.getSpec().getIngress())
        .singleElement()
        .satisfies(
            rule ->
                assertThat(rule.getPorts())
                    .singleElement()
                    .satisfies(p -> assertThat(p.getPort().getStrVal()).isEqualTo("http")));
    assertThat(
            policy.getSpec().getEgress().stream()
                .flatMap(rule -> rule.getPorts().stream())
                .map(HelmChartTest::portAndProtocol))
        .containsExactlyInAnyOrder("53/UDP", "53/TCP", "443/TCP", "6443/TCP");
    assertThat(policy.getSpec().getEgress()).allSatisfy(r -> assertThat(r.getTo()).isEmpty());

    NetworkPolicy narrowed =
        one(
            render(
                RELEASE,
                NAMESPACE,
                "--set",
                "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
                "--set",
                "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name=monitoring"),
            NetworkPolicy.class);
    assertThat(narrowed.getSpec().getEgress().get(1).getTo())
        .singleElement()
        .satisfies(peer -> assertThat(peer.getIpBlock().getCidr()).isEqualTo("10.0.0.1/32"));
    assertThat(narrowed.getSpec().getIngress().get(0).getFrom())
        .singleElement()
        .satisfies(
            peer ->
                assertThat(peer.getNamespaceSelector().getMatchLabels())
                    .containsEntry("name", "monitoring"));
    assertThat(render(RELEASE, NAMESPACE, "--set", "networkPolicy.enabled=false"))
        .noneMatch(NetworkPolicy.class::isInstance);

    Service metrics = one(chart, Service.class);
    assertThat(pods).containsAllEntriesOf(metrics.getSpec().getSelector());
    assertThat(metrics.getSpec().getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("http-metrics");
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            });
  }

  @Test
  void theServiceMonitorIsOptionalAndScrapesTheMetricsService() throws Exception {
    assertThat(render(RELEASE, NAMESPACE)).noneMatch(i -> i.getKind().equals("ServiceMonitor"));
    List<HasMetadata> chart =
        render(
            RELEASE,
            NAMESPACE,
            "--set",
            "serviceMonitor.enabled=true",
            "--set",
            "serviceMonitor.interval=30s",
            "--set",
            "serviceMonitor.labels.release=prometheus");
    GenericKubernetesResource monitor =
        chart.stream()
            .filter(i -> i.getKind().equals("ServiceMonitor"))
            .map(GenericKubernetesResource.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
    Map<String, String> selector = monitor.get("spec", "selector", "matchLabels");
    assertThat(one(chart, Service.class).getMetadata().getLabels()).containsAllEntriesOf(selector);
    Map<String, Object> endpoint = monitor.get("spec", "endpoints", 0);
    assertThat(endpoint)
        .containsEntry("port", "http-metrics")
        .containsEntry("path", "/q/metrics")
        .containsEntry("interval", "30s");
  }

  @Test
  void aPodDisruptionBudgetOnlyWithMoreThanOneReplica() throws Exception {
    List<HasMetadata> two = render(RELEASE, NAMESPACE, "--set", "replicaCount=2");
    PodDisruptionBudget budget = one(two, PodDisruptionBudget.class);
    assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    assertThat(budget.getSpec().getSelector())
        .isEqualTo(one(two, Deployment.class).getSpec().getSelector());
    assertThat(render(RELEASE, NAMESPACE, "--set", "replicaCount=1"))
        .noneMatch(PodDisruptionBudget.class::isInstance);
  }

  @Test
  void theSchemaRefusesUnknownAndMistypedValues() throws Exception {
    for (String bad :
        List.of(
            "replicaCount=two",
            "replicaCount=0",
            "trainerImag=typo",
            "image.pullPolicy=Sometimes",
            "image.digest=latest",
            "trainerGpuImageDigest=sha256:abc",
            "imagePullFailureTimeout=ten minutes",
            "watchNamespaces={Team_A}",
            "serviceMonitor.enable=true",
            "serviceMonitor.enabled=yes",
            "serviceMonitor.interval=often",
            "networkPolicy.apiServer.ports={https}",
            "networkPolicy.apiServer.cidrs={10.0.0.1}",
            "networkPolicy.egress=all")) {
      String err = helmFailing("template", "x", CHART.toString(), "--set", bad);
      assertThat(err).as(bad).contains("values don't meet the specifications of the schema");
    }
    // helm lint refuses them too (what a CI pipeline over a values file runs).
    assertThat(helmFailing("lint", CHART.toString(), "--set", "serviceMonitor.enable=true"))
        .contains("1 chart(s) failed");
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
                "crashLoopFailureTimeout=15m",
                "--set",
                "image.digest=" + DIGEST))
        .contains("team-a,team-b");
  }

  private static List<HasMetadata> render(String release, String namespace, String... values)
      throws Exception {
    List<String> args =
        new ArrayList<>(List.of("template", release, CHART.toString(), "--namespace", namespace));
    args.addAll(List.of(values));
    String out = helm(args.toArray(String[]::new));
    return API_SERVER
        .client()
        .load(new ByteArrayInputStream(out.getBytes(StandardCharsets.UTF_8)))
        .items();
  }

  private static boolean allowed(
      String user, String verb, String group, String resource, String namespace) {
    SubjectAccessReview review =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(user)
            .withGroups("system:serviceaccounts", "system:authenticated")
            .withNewResourceAttributes()
            .withVerb(verb)
            .withGroup(group)
            .withResource(resource)
            .withNamespace(namespace)
            .endResourceAttributes()
            .endSpec()
            .build();
    return API_SERVER
        .client()
        .authorization()
        .v1()
        .subjectAccessReview()
        .create(review)
        .getStatus()
        .getAllowed();
  }

  private static void createNamespace(String name) {
    API_SERVER
        .client()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .serverSideApply();
  }

  private static Container operatorContainer(List<HasMetadata> chart) {
    return one(chart, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in " + container.getEnv()));
  }

  private static Map<String, String> podLabels(List<HasMetadata> release) {
    return one(release, Deployment.class).getSpec().getTemplate().getMetadata().getLabels();
  }

  /** Every label selector a release uses to find its pods. */
  private static List<Map<String, String>> selectors(List<HasMetadata> release) {
    Stream<Map<String, String>> deployment =
        Stream.of(one(release, Deployment.class).getSpec().getSelector().getMatchLabels());
    Stream<Map<String, String>> service =
        release.stream()
            .filter(Service.class::isInstance)
            .map(s -> ((Service) s).getSpec().getSelector());
    Stream<Map<String, String>> policy =
        Stream.of(one(release, NetworkPolicy.class).getSpec().getPodSelector().getMatchLabels());
    Stream<Map<String, String>> budget =
        Stream.of(one(release, PodDisruptionBudget.class).getSpec().getSelector().getMatchLabels());
    return Stream.of(deployment, service, policy, budget).flatMap(s -> s).toList();
  }

  private static String portAndProtocol(NetworkPolicyPort port) {
    return port.getPort().getIntVal() + "/" + port.getProtocol();
  }

  private static Set<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
    }
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

  private static <T extends HasMetadata> T named(
      List<HasMetadata> items, Class<T> type, String namespace, String name) {
    return items.stream()
        .filter(type::isInstance)
        .map(type::cast)
        .filter(
            i ->
                namespace.equals(i.getMetadata().getNamespace())
                    && name.equals(i.getMetadata().getName()))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no " + type.getSimpleName() + " " + namespace + "/" + name));
  }

  private static List<HasMetadata> load(KubernetesClient client, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return client.load(in).items();
    }
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
