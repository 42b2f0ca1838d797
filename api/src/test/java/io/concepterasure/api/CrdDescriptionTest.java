package io.concepterasure.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** `kubectl explain concepterasure.spec...` gives a description for every field of ours. */
class CrdDescriptionTest {

  @Test
  void everyFieldOfSpecAndStatusHasADescription() throws IOException {
    Path file =
        Path.of(System.getProperty("crd.generated"), "concepterasures.concepterasure.io-v1.yml");
    CustomResourceDefinition crd =
        new KubernetesSerialization()
            .unmarshal(Files.readString(file), CustomResourceDefinition.class);
    JSONSchemaProps root = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    List<String> missing = new ArrayList<>();
    for (String top : List.of("spec", "status")) {
      walk(top, root.getProperties().get(top), missing);
    }
    assertThat(missing).as("fields without a description").isEmpty();
  }

  private static void walk(String path, JSONSchemaProps props, List<String> missing) {
    if (props == null) {
      return;
    }
    if (props.getDescription() == null || props.getDescription().isBlank()) {
      missing.add(path);
    }
    // Kubernetes' own types (affinity, tolerations, imagePullSecrets) are described upstream.
    if (path.endsWith(".affinity")
        || path.endsWith(".tolerations")
        || path.endsWith(".imagePullSecrets")) {
      return;
    }
    if (props.getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e : props.getProperties().entrySet()) {
        walk(path + "." + e.getKey(), e.getValue(), missing);
      }
    }
    if (props.getItems() != null
        && props.getItems().getSchema() != null
        && props.getItems().getSchema().getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e :
          props.getItems().getSchema().getProperties().entrySet()) {
        walk(path + "[]." + e.getKey(), e.getValue(), missing);
      }
    }
  }
}
