package io.concepterasure.operator.testing;

import io.fabric8.kubernetes.client.Config;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Points the Quarkus application's Kubernetes client at a kube-api-test API server with the CRD
 * applied.
 */
public class KubeApiServerTestResource implements QuarkusTestResourceLifecycleManager {
  private final KubeApiServerExtension apiServer = new KubeApiServerExtension();

  @Override
  public Map<String, String> start() {
    try {
      apiServer.start();
    } catch (Exception e) {
      throw new IllegalStateException("kube-apiserver did not start", e);
    }
    Config config = Config.fromKubeconfig(apiServer.kubeConfigYaml());
    Map<String, String> properties = new HashMap<>();
    properties.put("quarkus.kubernetes-client.api-server-url", config.getMasterUrl());
    properties.put("quarkus.kubernetes-client.namespace", "default");
    // kube-api-test's kubeconfig names certificate files or embeds them, depending on the version.
    put(properties, "ca-cert-data", config.getCaCertData());
    put(properties, "ca-cert-file", config.getCaCertFile());
    put(properties, "client-cert-data", config.getClientCertData());
    put(properties, "client-cert-file", config.getClientCertFile());
    put(properties, "client-key-data", config.getClientKeyData());
    put(properties, "client-key-file", config.getClientKeyFile());
    put(properties, "client-key-algo", config.getClientKeyAlgo());
    return properties;
  }

  private static void put(Map<String, String> properties, String key, String value) {
    if (value != null) {
      properties.put("quarkus.kubernetes-client." + key, value);
    }
  }

  @Override
  public void stop() {
    apiServer.stop();
  }
}
