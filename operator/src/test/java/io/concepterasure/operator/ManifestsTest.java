package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** manifests/ as a user installs it, on a real API server with RBAC enforced. */
class ManifestsTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final Path MANIFESTS = Path.of(System.getProperty("repo.root", ".."), "manifests");
  static final String OPERATOR_NAMESPACE = "concept-erasure-system";

  @Test
  void everySampleParsesAndIsAcceptedWithTheCrd() throws IOException {
    KubernetesClient client = API_SERVER.client();
    String namespace = API_SERVER.newNamespace("samples");
    List<Path> samples = yamlFiles(MANIFESTS.resolve("samples"));
    assertThat(samples).hasSizeGreaterThanOrEqualTo(3);
    for (Path sample : samples) {
      List<HasMetadata> items = load(client, sample);
      assertThat(items).as(sample.toString()).singleElement().isInstanceOf(ConceptErasure.class);
      ConceptErasure created =
          client.resource((ConceptErasure) items.get(0)).inNamespace(namespace).create();
      assertThat(created.getSpec().getConcepts()).as(sample.toString()).isNotEmpty();
    }
  }

  @Test
  void theOperatorsRbacIsEnoughToRunAndTheTrainersRoleCoversOnlyItsOwnResource()
      throws IOException {
    KubernetesClient admin = API_SERVER.client();
    installOperatorManifests(admin);
    Deployment deployment =
        admin
            .apps()
            .deployments()
            .inNamespace(OPERATOR_NAMESPACE)
            .withName("concept-erasure-operator")
            .get();
    var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot())
        .isTrue();

    String namespace = API_SERVER.newNamespace("rbac");
    KubernetesClient asOperator =
        API_SERVER.newClientAs(OPERATOR_NAMESPACE, "concept-erasure-operator");
    assertThatThrownBy(() -> asOperator.secrets().inNamespace(namespace).list())
        .as("the operator never reads Secrets")
        .isInstanceOf(KubernetesClientException.class);

    try (OperatorHarness operator = OperatorHarness.start(asOperator, TestSettings.defaults())) {
      ConceptErasure sample =
          (ConceptErasure) load(admin, MANIFESTS.resolve("samples/erase-nudity.yaml")).get(0);
      admin.resource(sample).inNamespace(namespace).create();
      ConceptErasure other =
          (ConceptErasure) load(admin, MANIFESTS.resolve("samples/erase-object-pvc.yaml")).get(0);
      admin.resource(other).inNamespace(namespace).create();
      Job job =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      admin
                          .batch()
                          .v1()
                          .jobs()
                          .inNamespace(namespace)
                          .withName("erase-nudity-erasure")
                          .get(),
                  j -> j != null);
      assertThat(job.getSpec().getTemplate().getSpec().getServiceAccountName())
          .isEqualTo("erase-nudity-trainer");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                ConceptErasure e =
                    admin
                        .resources(ConceptErasure.class)
                        .inNamespace(namespace)
                        .withName("erase-nudity")
                        .get();
                return e.getStatus() != null
                    && "erase-nudity-erasure".equals(e.getStatus().getJobName());
              });
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  admin
                          .rbac()
                          .roleBindings()
                          .inNamespace(namespace)
                          .withName("erase-pig-esd-trainer")
                          .get()
                      != null);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !admin.v1().events().inNamespace(namespace).list().getItems().isEmpty());
    }

    KubernetesClient asTrainer = API_SERVER.newClientAs(namespace, "erase-nudity-trainer");
    String progress =
        "{\"status\":{\"progress\":{\"iteration\":10,\"totalIterations\":400,\"percent\":2}}}";
    ConceptErasure patched =
        asTrainer
            .resources(ConceptErasure.class)
            .inNamespace(namespace)
            .withName("erase-nudity")
            .subresource("status")
            .patch(PatchContext.of(PatchType.JSON_MERGE), progress);
    assertThat(patched.getStatus().getProgress().getIteration()).isEqualTo(10);
    assertThatThrownBy(
            () ->
                asTrainer
                    .resources(ConceptErasure.class)
                    .inNamespace(namespace)
                    .withName("erase-pig-esd")
                    .subresource("status")
                    .patch(PatchContext.of(PatchType.JSON_MERGE), progress))
        .as("another resource's status")
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
    assertThatThrownBy(
            () ->
                asTrainer
                    .resources(ConceptErasure.class)
                    .inNamespace(namespace)
                    .withName("erase-nudity")
                    .edit(
                        e -> {
                          e.getSpec().setSuspend(true);
                          return e;
                        }))
        .as("its own spec")
        .isInstanceOf(KubernetesClientException.class);
    assertThatThrownBy(() -> asTrainer.secrets().inNamespace(namespace).list())
        .isInstanceOf(KubernetesClientException.class);
  }

  private static void installOperatorManifests(KubernetesClient admin) throws IOException {
    for (String file : List.of("namespace.yaml", "rbac.yaml", "operator.yaml")) {
      for (HasMetadata item : load(admin, MANIFESTS.resolve(file))) {
        admin.resource(item).serverSideApply();
      }
    }
  }

  private static List<HasMetadata> load(KubernetesClient client, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return client.load(in).items();
    }
  }

  private static List<Path> yamlFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }
}
