package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.concepterasure.trainer.erasure.ErasureRequest;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request file the operator writes (TrainerContract.requestYaml: the resource's spec as YAML
 * with the CRD's field names, less suspend) is what {@code trainer erase --request} reads: every
 * training field arrives with its value, the Job-only fields are accepted and ignored. The field
 * names come from the generated CRD (crds/), so the trainer needs no dependency on the api module.
 */
class RequestFileCompatibilityTest {
  private static final Set<String> TRAINING_FIELDS =
      Set.of("model", "concepts", "method", "output", "evaluation");
  private static final Set<String> JOB_ONLY_FIELDS =
      Set.of(
          "resources",
          "image",
          "imagePullSecrets",
          "suspend",
          "activeDeadlineSeconds",
          "backoffLimit",
          "ttlSecondsAfterFinished",
          "queueName");
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private static Path repo() {
    return Path.of(System.getProperty("repo.root"));
  }

  static Stream<Path> samples() throws Exception {
    Path dir = repo().resolve("manifests/samples");
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> list = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertThat(list).as("samples in " + dir).isNotEmpty();
      return list.stream();
    }
  }

  private static JsonNode specSchema() throws Exception {
    JsonNode crd =
        YAML.readTree(repo().resolve("crds/concepterasures.concepterasure.io-v1.yml").toFile());
    return crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties");
  }

  private static Set<String> names(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static Set<String> publicFields(Class<?> type) {
    return Arrays.stream(type.getDeclaredFields())
        .filter(f -> Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers()))
        .map(Field::getName)
        .collect(Collectors.toSet());
  }

  @ParameterizedTest
  @MethodSource("samples")
  void everySampleRequestIsReadWithEveryTrainingField(Path sample) throws Exception {
    ObjectNode spec = (ObjectNode) YAML.readTree(sample.toFile()).get("spec");
    assertThat(names(spec))
        .as("samples use Job-only fields the trainer must skip")
        .containsAnyElementsOf(JOB_ONLY_FIELDS);
    ObjectNode request = spec.deepCopy();
    request.remove("suspend");
    Path file = Files.writeString(tmp.resolve("request.yaml"), YAML.writeValueAsString(request));

    ErasureRequest read = ErasureRequest.read(file);

    ObjectNode expected = JSON.readTree(JSON.writeValueAsString(spec)).deepCopy();
    expected.retain(TRAINING_FIELDS);
    ((ObjectNode) expected.get("model")).remove("credentialsSecretRef");
    ((ObjectNode) expected.get("output")).remove("credentialsSecretRef");
    assertThat(JSON.readTree(read.toJson()))
        .as(sample.getFileName().toString())
        .isEqualTo(expected);
    read.withDefaults().validate();
  }

  @Test
  void everySpecFieldOfTheCrdIsEitherReadOrKnownToBeJobOnly() throws Exception {
    // A new spec field must be taught to the trainer or listed as Job-only, never dropped silently.
    JsonNode spec = specSchema();
    Set<String> known = new HashSet<>(TRAINING_FIELDS);
    known.addAll(JOB_ONLY_FIELDS);
    assertThat(names(spec)).isEqualTo(known);
    assertThat(publicFields(ErasureRequest.Method.class))
        .isEqualTo(names(spec.at("/method/properties")));
    assertThat(publicFields(ErasureRequest.Evaluation.class))
        .isEqualTo(names(spec.at("/evaluation/properties")));
    assertThat(publicFields(ErasureRequest.Concept.class))
        .isEqualTo(names(spec.at("/concepts/items/properties")));
    Set<String> location = new HashSet<>(publicFields(ErasureRequest.Location.class));
    location.add("credentialsSecretRef");
    assertThat(location)
        .isEqualTo(names(spec.at("/model/properties")))
        .isEqualTo(names(spec.at("/output/properties")));
  }

  @Test
  void anUnknownFieldIsStillAnError() throws Exception {
    Path file =
        Files.writeString(
            tmp.resolve("request.yaml"),
            "model: {uri: s3://b/m}\noutput: {uri: s3://b/o}\nconcepts: [{erase: cat}]\nmethdo: {iterations: 3}\n");
    assertThatThrownBy(() -> ErasureRequest.read(file))
        .hasMessageContaining("unknown field 'methdo'");
  }
}
