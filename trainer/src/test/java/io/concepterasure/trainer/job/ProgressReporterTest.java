package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The progress reporter against a real kube-apiserver (fabric8 kube-api-test; binaries from
 * tools/envtest/install.sh) with the generated CRD, as the trainer's ServiceAccount with the
 * operator's Role (get/patch on that one resource's status), authenticated by a real token.
 */
class ProgressReporterTest {
  private static final String NAME = "erase-van-gogh";
  private static final String NAMESPACE = "trainer-progress";
  private static final ResourceDefinitionContext CONCEPT_ERASURES =
      new ResourceDefinitionContext.Builder()
          .withGroup("concepterasure.io")
          .withVersion("v1alpha1")
          .withPlural("concepterasures")
          .withKind("ConceptErasure")
          .withNamespaced(true)
          .build();

  private static KubeAPIServer server;
  private static KubernetesClient admin;
  private static String token;

  @TempDir Path tmp;

  /** A clock the test moves, so the interval is tested without waiting. */
  private static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withOfflineMode(true)
                .withApiServerVersion("1.34.4")
                .withUpdateKubeConfig(false)
                .build());
    server.start();
    admin =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(server.getKubeConfigYaml()))
            .build();
    Path repo = Path.of(System.getProperty("repo.root"));
    List<HasMetadata> crd =
        admin
            .load(
                Files.newInputStream(repo.resolve("crds/concepterasures.concepterasure.io-v1.yml")))
            .items();
    admin.resourceList(crd).serverSideApply();
    admin
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName("concepterasures.concepterasure.io")
        .waitUntilCondition(
            c ->
                c.getStatus() != null
                    && c.getStatus().getConditions() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            30,
            TimeUnit.SECONDS);
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    GenericKubernetesResource erasure =
        admin
            .getKubernetesSerialization()
            .unmarshal(
                Files.readString(repo.resolve("manifests/samples/erase-van-gogh.yaml")),
                GenericKubernetesResource.class);
    erasure.getMetadata().setNamespace(NAMESPACE);
    admin
        .genericKubernetesResources(CONCEPT_ERASURES)
        .inNamespace(NAMESPACE)
        .resource(erasure)
        .create();

    // What the operator gives each trainer (TrainerRoleDependentResource): that one resource,
    // nothing else.
    admin
        .serviceAccounts()
        .inNamespace(NAMESPACE)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(NAME + "-trainer")
                .endMetadata()
                .build())
        .create();
    admin
        .rbac()
        .roles()
        .inNamespace(NAMESPACE)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName(NAME + "-trainer")
                .endMetadata()
                .addNewRule()
                .withApiGroups("concepterasure.io")
                .withResources("concepterasures")
                .withResourceNames(NAME)
                .withVerbs("get")
                .endRule()
                .addNewRule()
                .withApiGroups("concepterasure.io")
                .withResources("concepterasures/status")
                .withResourceNames(NAME)
                .withVerbs("get", "patch")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(NAMESPACE)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(NAME + "-trainer")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName(NAME + "-trainer")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(NAME + "-trainer")
                .withNamespace(NAMESPACE)
                .endSubject()
                .build())
        .create();
    token =
        admin
            .serviceAccounts()
            .inNamespace(NAMESPACE)
            .withName(NAME + "-trainer")
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (server != null) {
      server.stop();
    }
  }

  /** The pod's /var/run/secrets/kubernetes.io/serviceaccount: token and the API server's CA. */
  private Path serviceAccountDir() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("serviceaccount"));
    Files.writeString(dir.resolve("token"), token);
    Config config = admin.getConfiguration();
    Files.write(
        dir.resolve("ca.crt"),
        config.getCaCertData() != null
            ? Base64.getDecoder().decode(config.getCaCertData())
            : Files.readAllBytes(Path.of(config.getCaCertFile())));
    return dir;
  }

  private ProgressReporter reporter(String name, TestClock clock, StringWriter log)
      throws Exception {
    return new ProgressReporter(
        URI.create(admin.getConfiguration().getMasterUrl()),
        serviceAccountDir(),
        NAMESPACE,
        name,
        Duration.ofSeconds(15),
        clock,
        new PrintWriter(log, true));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> progress() {
    GenericKubernetesResource r =
        admin
            .genericKubernetesResources(CONCEPT_ERASURES)
            .inNamespace(NAMESPACE)
            .withName(NAME)
            .get();
    Map<String, Object> status = (Map<String, Object>) r.getAdditionalProperties().get("status");
    return status == null ? null : (Map<String, Object>) status.get("progress");
  }

  @Test
  void patchesStatusProgressAtMostOncePerIntervalAndAtTheEnd() throws Exception {
    TestClock clock = new TestClock();
    StringWriter log = new StringWriter();
    ProgressReporter reporter = reporter(NAME, clock, log);
    var listener = reporter.start(0, 10);

    listener.accept(0, Map.of("loss", 0.5, "erase", 0.4));
    reporter.awaitInFlight();
    assertThat(progress())
        .containsEntry("iteration", 1)
        .containsEntry("totalIterations", 10)
        .containsEntry("percent", 10)
        .containsEntry("loss", 0.5)
        .containsEntry("updatedAt", "2026-01-01T00:00:00Z");

    clock.now = clock.now.plusSeconds(1);
    listener.accept(1, Map.of("loss", 0.4));
    reporter.awaitInFlight();
    assertThat(progress()).as("within the interval: not sent").containsEntry("iteration", 1);

    clock.now = clock.now.plusSeconds(15);
    listener.accept(2, Map.of("loss", 0.3));
    reporter.awaitInFlight();
    // 3 iterations in 16 s: 7 left take 37 s.
    assertThat(progress())
        .containsEntry("iteration", 3)
        .containsEntry("percent", 30)
        .containsEntry("loss", 0.3)
        .containsEntry("secondsRemaining", 37)
        .containsEntry("updatedAt", "2026-01-01T00:00:16Z");

    clock.now = clock.now.plusSeconds(2);
    listener.accept(3, Map.of("loss", 0.25));
    reporter.finish();
    assertThat(progress()).containsEntry("iteration", 4).containsEntry("loss", 0.25);
    assertThat(log.toString()).isEmpty();
  }

  @Test
  void aRefusedPatchIsLoggedOnceWithoutTheTokenAndNeverThrown() throws Exception {
    StringWriter log = new StringWriter();
    ProgressReporter reporter = reporter("another-resource", new TestClock(), log);
    var listener = reporter.start(0, 2);
    listener.accept(0, Map.of("loss", 0.5));
    listener.accept(1, Map.of("loss", 0.4));
    reporter.finish();
    // The Role names one resource: another is forbidden to this ServiceAccount.
    assertThat(log.toString()).contains("answered 403").doesNotContain(token);
    assertThat(log.toString().lines().count()).isEqualTo(1);
  }

  @Test
  void isOnlyMadeInsideTheOperatorsJob() throws Exception {
    Path dir = serviceAccountDir();
    Map<String, String> job =
        Map.of(
            ProgressReporter.ENV_RESOURCE_NAME,
            NAME,
            ProgressReporter.ENV_RESOURCE_NAMESPACE,
            NAMESPACE,
            "KUBERNETES_SERVICE_HOST",
            "127.0.0.1");
    PrintWriter log = new PrintWriter(new StringWriter());
    assertThat(ProgressReporter.fromEnvironment(job, dir, log)).isPresent();
    assertThat(ProgressReporter.fromEnvironment(Map.of(), dir, log)).isEmpty();
    assertThat(ProgressReporter.fromEnvironment(job, tmp.resolve("no-token"), log)).isEmpty();
  }
}
