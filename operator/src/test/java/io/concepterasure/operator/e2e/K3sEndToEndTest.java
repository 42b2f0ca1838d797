package io.concepterasure.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.api.v1alpha1.TrainingResources;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Tier 3: a real cluster (k3s) with its Job controller, scheduler and kubelet. Installs crds/ and
 * manifests/ (namespace, RBAC), runs the operator as the installed ServiceAccount and follows a
 * real Job. Skipped where no Docker engine is reachable (as in this project's CI). The operator
 * runs in the test JVM: its container image is not built here. The trainer image is
 * -Dce.e2e.trainer-image (default: the operator's default image); without a GPU node, gpus is 0.
 */
@Testcontainers(disabledWithoutDocker = true)
class K3sEndToEndTest {
  @Container
  static final K3sContainer K3S =
      new K3sContainer(DockerImageName.parse("rancher/k3s:v1.34.1-k3s1"));

  static final Path ROOT = Path.of(System.getProperty("repo.root", ".."));

  @Test
  void theOperatorTurnsASampleIntoAJobThatTheClusterRuns() throws IOException {
    Config admin = Config.fromKubeconfig(K3S.getKubeConfigYaml());
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(admin).build()) {
      apply(client, ROOT.resolve("crds/concepterasures.concepterasure.io-v1.yml"));
      apply(client, ROOT.resolve("manifests/namespace.yaml"));
      apply(client, ROOT.resolve("manifests/rbac.yaml"));
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName("e2e").endMetadata().build())
          .create();

      Config asOperator =
          new ConfigBuilder(admin)
              .withImpersonateUsername(
                  "system:serviceaccount:concept-erasure-system:concept-erasure-operator")
              .withImpersonateGroups("system:serviceaccounts", "system:authenticated")
              .build();
      TestSettings settings = TestSettings.defaults();
      try (OperatorHarness operator =
          OperatorHarness.start(
              new KubernetesClientBuilder().withConfig(asOperator).build(), settings)) {
        ConceptErasure sample;
        try (InputStream in =
            Files.newInputStream(ROOT.resolve("manifests/samples/erase-nudity.yaml"))) {
          sample = client.getKubernetesSerialization().unmarshal(in, ConceptErasure.class);
        }
        sample.getMetadata().setNamespace("e2e");
        // No Secrets and no GPU node in a bare k3s: the pod can start with what the cluster has.
        sample.getSpec().getModel().setCredentialsSecretRef(null);
        sample.getSpec().getOutput().setCredentialsSecretRef(null);
        sample
            .getSpec()
            .setImage(System.getProperty("ce.e2e.trainer-image", settings.trainerImage()));
        TrainingResources noGpu = new TrainingResources();
        noGpu.setGpus(0);
        noGpu.setMemory(new Quantity("512Mi"));
        noGpu.setCpu(new Quantity("100m"));
        sample.getSpec().setResources(noGpu);
        client.resource(sample).create();

        // The real Job controller makes the pod; the real kubelet (or scheduler) reports on it.
        List<Pod> pods =
            await()
                .atMost(Duration.ofMinutes(2))
                .until(
                    () ->
                        client
                            .pods()
                            .inNamespace("e2e")
                            .withLabel("concepterasure.io/erasure", "erase-nudity")
                            .list()
                            .getItems(),
                    l -> !l.isEmpty());
        assertThat(
                pods.get(0)
                    .getSpec()
                    .getContainers()
                    .get(0)
                    .getSecurityContext()
                    .getReadOnlyRootFilesystem())
            .isTrue();
        // The trainer's container must really start: an image that cannot be pulled fails here
        // (it used to pass on ImagePullBackOff, which proves nothing about the image).
        Pod started =
            await()
                .atMost(Duration.ofMinutes(5))
                .until(
                    () ->
                        client
                            .pods()
                            .inNamespace("e2e")
                            .withName(pods.get(0).getMetadata().getName())
                            .get(),
                    p -> {
                      var statuses = p.getStatus().getContainerStatuses();
                      if (statuses == null || statuses.isEmpty()) {
                        return false;
                      }
                      var state = statuses.get(0).getState();
                      if (state.getWaiting() != null
                          && List.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName")
                              .contains(state.getWaiting().getReason())) {
                        throw new AssertionError(
                            "the trainer image was not pulled: " + state.getWaiting());
                      }
                      return state.getRunning() != null || state.getTerminated() != null;
                    });
        assertThat(started.getStatus().getContainerStatuses().get(0).getImageID()).isNotBlank();
        ConceptErasure followed =
            await()
                .atMost(Duration.ofMinutes(3))
                .until(
                    () ->
                        client
                            .resources(ConceptErasure.class)
                            .inNamespace("e2e")
                            .withName("erase-nudity")
                            .get(),
                    e -> e.getStatus() != null && e.getStatus().getPhase() != Phase.PENDING);
        assertThat(followed.getStatus().getJobName()).isEqualTo("erase-nudity-erasure");
      }
    }
  }

  private static void apply(KubernetesClient client, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      for (HasMetadata item : client.load(in).items()) {
        client.resource(item).serverSideApply();
      }
    }
  }
}
