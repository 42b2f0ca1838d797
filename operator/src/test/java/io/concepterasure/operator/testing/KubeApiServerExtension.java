package io.concepterasure.operator.testing;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real kube-apiserver and etcd (fabric8 kube-api-test, binaries from tools/envtest/install.sh),
 * started once per test class, with the generated ConceptErasure CRD applied. It runs no
 * controllers: no Job controller, no kubelet, no garbage collector; tests play their parts.
 */
public class KubeApiServerExtension implements BeforeAllCallback, AfterAllCallback {
  public static final String K8S_VERSION = "1.34.4";

  /** The CRD as the api module's build generated it, read from that jar. */
  public static final String CRD_RESOURCE =
      "META-INF/fabric8/concepterasures.concepterasure.io-v1.yml";

  private KubeAPIServer server;
  private KubernetesClient client;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop();
  }

  public void start() throws IOException {
    server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withOfflineMode(true)
                .withApiServerVersion(K8S_VERSION)
                .withUpdateKubeConfig(false)
                .build());
    server.start();
    client = newClient();
    applyCrd(client);
  }

  public void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.stop();
    }
  }

  public KubernetesClient client() {
    return client;
  }

  /** A separate client, e.g. for an operator that closes its own on stop. */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(server.getKubeConfigYaml()))
        .build();
  }

  /**
   * A client acting as a ServiceAccount (impersonation), to test RBAC rules as the API server
   * applies them.
   */
  public KubernetesClient newClientAs(String namespace, String serviceAccount) {
    Config config =
        new ConfigBuilder(Config.fromKubeconfig(server.getKubeConfigYaml()))
            .withImpersonateUsername("system:serviceaccount:" + namespace + ":" + serviceAccount)
            .withImpersonateGroups(
                "system:serviceaccounts",
                "system:serviceaccounts:" + namespace,
                "system:authenticated")
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public String kubeConfigYaml() {
    return server.getKubeConfigYaml();
  }

  /** A fresh namespace, so that tests in one class do not see each other's objects. */
  public String newNamespace(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  public static CustomResourceDefinition generatedCrd(KubernetesClient client) throws IOException {
    try (InputStream in = ConceptErasure.class.getClassLoader().getResourceAsStream(CRD_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            CRD_RESOURCE + " is not on the classpath: build the api module first");
      }
      return client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
    }
  }

  private static void applyCrd(KubernetesClient client) throws IOException {
    CustomResourceDefinition crd =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(generatedCrd(client))
            .serverSideApply();
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(crd.getMetadata().getName())
        .waitUntilCondition(
            c ->
                c.getStatus() != null
                    && c.getStatus().getConditions() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            30,
            TimeUnit.SECONDS);
  }
}
