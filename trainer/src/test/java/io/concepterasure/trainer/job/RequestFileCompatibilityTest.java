package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.concepterasure.trainer.erasure.RequestFields;
import io.concepterasure.trainer.erasure.RequestFile;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    RequestFile read = RequestFile.read(file);

    ObjectNode expected = JSON.readTree(JSON.writeValueAsString(spec)).deepCopy();
    expected.retain(TRAINING_FIELDS);
    ((ObjectNode) expected.get("model")).remove("credentialsSecretRef");
    ((ObjectNode) expected.get("output")).remove("credentialsSecretRef");
    assertThat(JSON.readTree(read.toJson()))
        .as(sample.getFileName().toString())
        .isEqualTo(expected);
    read.toRequest();
  }

  @Test
  void everySpecFieldOfTheCrdIsEitherReadOrKnownToBeJobOnly() throws Exception {
    // A new spec field must be taught to the trainer or listed as Job-only, never dropped silently.
    JsonNode spec = specSchema();
    Set<String> known = new HashSet<>(TRAINING_FIELDS);
    known.addAll(JOB_ONLY_FIELDS);
    assertThat(names(spec)).isEqualTo(known);
    assertThat(publicFields(RequestFile.Method.class))
        .isEqualTo(names(spec.at("/method/properties")));
    assertThat(publicFields(RequestFile.EvaluationPlan.class))
        .isEqualTo(names(spec.at("/evaluation/properties")));
    assertThat(publicFields(RequestFile.Concept.class))
        .isEqualTo(names(spec.at("/concepts/items/properties")));
    Set<String> location = new HashSet<>(publicFields(RequestFile.Location.class));
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
    assertThatThrownBy(() -> RequestFile.read(file)).hasMessageContaining("unknown field 'methdo'");
  }

  /** The schema node of a field path: {@code method.learningRate}, {@code concepts[].erase}. */
  private static JsonNode schemaOf(JsonNode spec, String path) {
    StringBuilder pointer = new StringBuilder();
    for (String part : path.split("\\.")) {
      boolean items = part.endsWith("[]");
      pointer.append("/").append(items ? part.substring(0, part.length() - 2) : part);
      if (items) {
        pointer.append("/items");
      }
      pointer.append("/properties");
    }
    return spec.at(pointer.substring(0, pointer.length() - "/properties".length()));
  }

  private static final List<String> CONSTRAINTS =
      List.of(
          "default",
          "minimum",
          "exclusiveMinimum",
          "maximum",
          "maxItems",
          "minLength",
          "maxLength");

  /** What the trainer declares for a field, in the schema's words. */
  private static ObjectNode declared(RequestFields.Field field) {
    ObjectNode node = JSON.createObjectNode();
    if (field.defaultValue() != null) {
      node.set("default", JSON.valueToTree(field.defaultValue()));
    }
    if (field.minimum() != null) {
      node.put("minimum", field.minimum());
      if (field.exclusiveMinimum()) {
        node.put("exclusiveMinimum", true);
      }
    }
    if (field.maximum() != null) {
      node.put("maximum", field.maximum());
    }
    if (field.maxItems() != null) {
      node.put("maxItems", field.maxItems());
    }
    if (field.minLength() != null) {
      node.put("minLength", field.minLength());
    }
    if (field.maxLength() != null) {
      node.put("maxLength", field.maxLength());
    }
    return node;
  }

  /** The schema's constraints of a node, numbers as doubles so that 400 equals 400.0. */
  private static ObjectNode constraints(JsonNode schema) {
    ObjectNode node = JSON.createObjectNode();
    for (String c : CONSTRAINTS) {
      if (schema.has(c)) {
        node.set(c, schema.get(c));
      }
    }
    return node;
  }

  private static JsonNode comparable(JsonNode node) {
    if (node.isNumber()) {
      return JSON.getNodeFactory().numberNode(node.doubleValue());
    }
    if (node.isContainerNode()) {
      JsonNode copy = node.deepCopy();
      if (copy.isObject()) {
        ((ObjectNode) copy).fields().forEachRemaining(e -> e.setValue(comparable(e.getValue())));
      } else {
        for (int i = 0; i < copy.size(); i++) {
          ((com.fasterxml.jackson.databind.node.ArrayNode) copy).set(i, comparable(copy.get(i)));
        }
      }
      return copy;
    }
    return node;
  }

  @Test
  void everyDefaultAndBoundOfTheTrainerEqualsTheCrds() throws Exception {
    JsonNode spec = specSchema();
    for (RequestFields.Field field : RequestFields.ALL) {
      JsonNode schema = schemaOf(spec, field.path());
      assertThat(schema.isMissingNode()).as(field.path() + " in the CRD").isFalse();
      assertThat(comparable(declared(field)))
          .as("defaults and bounds of " + field.path() + " (trainer vs CRD)")
          .isEqualTo(comparable(constraints(schema)));
    }
  }

  @Test
  void everyDefaultAndBoundOfTheCrdsTrainingFieldsIsDeclaredByTheTrainer() throws Exception {
    // The reverse: a default or bound added to the CRD alone would let the two sides drift.
    Set<String> declared =
        RequestFields.ALL.stream().map(RequestFields.Field::path).collect(Collectors.toSet());
    List<String> undeclared = new ArrayList<>();
    JsonNode spec = specSchema();
    for (String part : TRAINING_FIELDS) {
      collectConstrained(part, spec.get(part), undeclared);
    }
    undeclared.removeAll(declared);
    assertThat(undeclared)
        .as("CRD fields with defaults or bounds the trainer does not declare")
        .isEmpty();
  }

  private static void collectConstrained(String path, JsonNode schema, List<String> out) {
    if (path.endsWith(".credentialsSecretRef")) {
      return; // mounted as files by the Job; the trainer never reads the reference
    }
    boolean object = "object".equals(schema.path("type").asText());
    if (!object && !constraints(schema).isEmpty()) {
      out.add(path);
    }
    schema
        .path("properties")
        .fields()
        .forEachRemaining(e -> collectConstrained(path + "." + e.getKey(), e.getValue(), out));
    if (schema.has("items")) {
      collectConstrained(path + "[]", schema.get("items"), out);
    }
  }
}
