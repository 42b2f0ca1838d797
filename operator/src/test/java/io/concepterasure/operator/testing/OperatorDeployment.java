package io.concepterasure.operator.testing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The operator installed the way a platform team installs it from {@code manifests/}: the CRD, the
 * namespace, {@code manifests/rbac.yaml} as it is (so the tests run under the documented
 * privileges), and {@code manifests/operator.yaml}'s Deployment with only the image, the replica
 * count and the given settings changed.
 */
public final class OperatorDeployment {
  public static final String NAMESPACE = "concept-erasure-system";
  public static final String NAME = "concept-erasure-operator";

  private final KubernetesClient client;

  private OperatorDeployment(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Applies the manifests and waits until the operator's pod is ready (its readiness probe: the
   * informers have synced).
   *
   * @param settings environment variables set on the operator's container (its settings, e.g.
   *     {@code CONCEPTERASURE_TRAINER_IMAGE}), replacing those of the same name
   */
  public static OperatorDeployment install(
      KubernetesClient client, Path repoRoot, String operatorImage, Map<String, String> settings) {
    for (String manifest :
        List.of(
            "crds/concepterasures.concepterasure.io-v1.yml",
            "manifests/namespace.yaml",
            "manifests/rbac.yaml")) {
      for (HasMetadata item : load(client, repoRoot.resolve(manifest))) {
        client.resource(item).forceConflicts().serverSideApply();
      }
    }
    Deployment deployment =
        load(client, repoRoot.resolve("manifests/operator.yaml")).stream()
            .filter(Deployment.class::isInstance)
            .map(Deployment.class::cast)
            .findFirst()
            .orElseThrow(
                () -> new IllegalStateException("no Deployment in manifests/operator.yaml"));
    deployment.getSpec().setReplicas(1);
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    container.setImage(operatorImage);
    // The image was imported into the node's containerd; nothing can be pulled here.
    container.setImagePullPolicy("Never");
    List<EnvVar> env =
        container.getEnv().stream()
            .filter(e -> !settings.containsKey(e.getName()))
            .collect(Collectors.toList());
    settings.forEach((name, value) -> env.add(new EnvVar(name, value, null)));
    container.setEnv(env);
    client.resource(deployment).forceConflicts().serverSideApply();

    OperatorDeployment operator = new OperatorDeployment(client);
    try {
      Awaitility.await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofSeconds(1))
          .until(operator::ready);
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "the operator did not become ready in 3 minutes: " + operator.describe(), e);
    }
    return operator;
  }

  public boolean ready() {
    Deployment deployment = client.apps().deployments().inNamespace(NAMESPACE).withName(NAME).get();
    return deployment != null
        && deployment.getStatus() != null
        && Integer.valueOf(1).equals(deployment.getStatus().getReadyReplicas());
  }

  /** The operator pod's state and the tail of its log, for failure messages. */
  public String describe() {
    StringBuilder out = new StringBuilder();
    for (Pod pod : pods()) {
      out.append("operator pod ")
          .append(pod.getMetadata().getName())
          .append(": ")
          .append(pod.getStatus() == null ? "?" : pod.getStatus().getContainerStatuses())
          .append("\n")
          .append(logTail(pod.getMetadata().getName(), 60));
    }
    return out.toString();
  }

  public String logTail(String pod, int lines) {
    try {
      return client.pods().inNamespace(NAMESPACE).withName(pod).tailingLines(lines).getLog();
    } catch (RuntimeException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** The whole log of the operator's current pod. */
  public String log() {
    return pods().stream()
        .map(p -> logTail(p.getMetadata().getName(), 100_000))
        .collect(Collectors.joining("\n"));
  }

  private List<Pod> pods() {
    return client
        .pods()
        .inNamespace(NAMESPACE)
        .withLabel("app.kubernetes.io/name", NAME)
        .list()
        .getItems();
  }

  /** Deletes the Deployment (the CRD and RBAC stay: other test classes may use them). */
  public void uninstall() {
    client.apps().deployments().inNamespace(NAMESPACE).withName(NAME).delete();
  }

  private static List<HasMetadata> load(KubernetesClient client, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return client.load(in).items();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
