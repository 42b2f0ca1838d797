package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureSpec;
import io.concepterasure.trainer.erasure.ErasureRequest;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request file the operator writes (TrainerContract.requestYaml: the spec as YAML through
 * fabric8's serialization, less suspend) is what {@code trainer erase --request} reads: every
 * training field arrives with its value, the Job-only fields are accepted and ignored.
 */
class RequestFileCompatibilityTest {
  private static final Set<String> TRAINING_FIELDS = Set.of("model", "concepts", "method", "output", "evaluation");
  private static final Set<String> JOB_ONLY_FIELDS = Set.of("resources", "image", "imagePullSecrets", "suspend",
      "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "queueName");
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  static Stream<Path> samples() throws Exception {
    Path dir = Path.of(System.getProperty("repo.root"), "manifests", "samples");
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> list = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertThat(list).as("samples in " + dir).isNotEmpty();
      return list.stream();
    }
  }

  /** As the operator does it: the resource's spec, suspend left out, as YAML. */
  private static String requestYaml(ConceptErasureSpec spec) {
    ConceptErasureSpec request = SERIALIZATION.clone(spec);
    request.setSuspend(null);
    return SERIALIZATION.asYaml(request);
  }

  @ParameterizedTest
  @MethodSource("samples")
  void everySampleRequestIsReadWithEveryTrainingField(Path sample) throws Exception {
    ConceptErasure resource = SERIALIZATION.unmarshal(Files.readString(sample), ConceptErasure.class);
    Path file = Files.writeString(tmp.resolve("request.yaml"), requestYaml(resource.getSpec()));

    ErasureRequest request = ErasureRequest.read(file);

    ObjectNode expected = (ObjectNode) JSON.readTree(SERIALIZATION.asJson(resource.getSpec()));
    expected.retain(TRAINING_FIELDS);
    ((ObjectNode) expected.get("model")).remove("credentialsSecretRef");
    ((ObjectNode) expected.get("output")).remove("credentialsSecretRef");
    JsonNode actual = JSON.readTree(request.toJson());
    assertThat(actual).as(sample.getFileName().toString()).isEqualTo(expected);
    request.withDefaults().validate();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void samplesUseJobOnlyFieldsTheTrainerMustSkip(Path sample) throws Exception {
    // Guards the test above against samples that never exercise the ignored fields.
    JsonNode spec = JSON.readTree(SERIALIZATION.asJson(
        SERIALIZATION.unmarshal(Files.readString(sample), ConceptErasure.class).getSpec()));
    List<String> names = new java.util.ArrayList<>();
    spec.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsAnyElementsOf(JOB_ONLY_FIELDS);
  }

  @Test
  void everySpecFieldIsEitherReadOrKnownToBeJobOnly() {
    // A new spec field must be taught to the trainer or listed as Job-only, never dropped silently.
    Set<String> specFields = Arrays.stream(ConceptErasureSpec.class.getDeclaredFields())
        .filter(f -> !Modifier.isStatic(f.getModifiers())).map(Field::getName).collect(Collectors.toSet());
    Set<String> known = new java.util.HashSet<>(TRAINING_FIELDS);
    known.addAll(JOB_ONLY_FIELDS);
    assertThat(specFields).isEqualTo(known);
  }

  @Test
  void anUnknownFieldIsStillAnError() throws Exception {
    Path file = Files.writeString(tmp.resolve("request.yaml"),
        "model: {uri: s3://b/m}\noutput: {uri: s3://b/o}\nconcepts: [{erase: cat}]\nmethdo: {iterations: 3}\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ErasureRequest.read(file))
        .hasMessageContaining("unknown field 'methdo'");
  }
}
