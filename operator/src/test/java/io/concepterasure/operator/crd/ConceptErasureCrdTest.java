package io.concepterasure.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.MethodName;
import io.concepterasure.api.v1alpha1.ParameterSet;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.Samples;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated CRD on a real kube-apiserver: what it accepts, what it refuses and how it says so.
 */
class ConceptErasureCrdTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  private static String namespace;
  private static int counter;

  @BeforeAll
  static void namespace() {
    namespace = API_SERVER.newNamespace("crd");
  }

  @Test
  void acceptsAValidResourceAppliesDefaultsAndReadsItBack() {
    KubernetesClient client = API_SERVER.client();
    client.resource(Samples.nudity(namespace, "smoke")).create();

    ConceptErasure read =
        client.resources(ConceptErasure.class).inNamespace(namespace).withName("smoke").get();
    assertThat(read.getSpec().getConcepts())
        .singleElement()
        .satisfies(c -> assertThat(c.getErase()).isEqualTo("nudity"));
    assertThat(read.getSpec().getModel().getUri()).isEqualTo("s3://models/stable-diffusion-v1-4");
    // Defaults from the schema, so that the request file names every hyperparameter actually used.
    assertThat(read.getSpec().getMethod().getName()).isEqualTo(MethodName.ALL_BUT_ONE);
    assertThat(read.getSpec().getMethod().getIterations()).isEqualTo(400);
    assertThat(read.getSpec().getMethod().getLearningRate()).isEqualTo(1.0e-5);
    assertThat(read.getSpec().getMethod().getParameters()).isEqualTo(ParameterSet.CROSS_ATTENTION);
    assertThat(read.getSpec().getResources().getGpus()).isEqualTo(1);
    assertThat(read.getSpec().getResources().getGpuResourceName()).isEqualTo("nvidia.com/gpu");
    assertThat(read.getSpec().getBackoffLimit()).isEqualTo(2);
  }

  static Stream<Arguments> badResources() {
    return Stream.of(
        bad("no model", s -> s.remove("model"), "spec.model: Required value"),
        bad("no concepts", s -> s.remove("concepts"), "spec.concepts: Required value"),
        bad(
            "empty concept list",
            s -> s.put("concepts", List.of()),
            "concepts must name at least one concept"),
        bad("empty erase", s -> concept(s).put("erase", ""), "spec.concepts[0].erase"),
        bad(
            "blank erase",
            s -> concept(s).put("erase", "   "),
            "concepts[].erase must not be empty or blank"),
        bad(
            "alternative equal to erase",
            s -> concept(s).put("alternative", "nudity"),
            "concepts[].alternative must differ from concepts[].erase"),
        bad(
            "http model uri",
            s -> map(s, "model").put("uri", "http://example.com/model"),
            "model.uri must be s3://bucket/prefix, pvc://claim/path or hf://org/name[@revision]"),
        bad(
            "gs model uri",
            s -> map(s, "model").put("uri", "gs://bucket/model"),
            "model.uri must be s3://"),
        bad(
            "hf output uri",
            s -> map(s, "output").put("uri", "hf://org/name"),
            "output.uri must be s3://bucket/prefix or pvc://claim/path"),
        bad("no output", s -> s.remove("output"), "spec.output: Required value"),
        bad(
            "unknown method",
            s -> map(s, "method").put("name", "fancy"),
            "spec.method.name: Unsupported value: \"fancy\""),
        bad(
            "zero iterations",
            s -> map(s, "method").put("iterations", 0),
            "spec.method.iterations: Invalid value: 0: spec.method.iterations in body should be greater than or equal to 1"),
        bad(
            "zero learning rate",
            s -> map(s, "method").put("learningRate", 0),
            "spec.method.learningRate in body should be greater than 0"),
        bad(
            "unknown parameter set",
            s -> map(s, "method").put("parameters", "attn"),
            "spec.method.parameters: Unsupported value: \"attn\""),
        bad(
            "negative gpus",
            s -> map(s, "resources").put("gpus", -1),
            "spec.resources.gpus in body should be greater than or equal to 0"),
        bad(
            "backoffLimit above 10",
            s -> s.put("backoffLimit", 11),
            "spec.backoffLimit in body should be less than or equal to 10"),
        bad(
            "17 concepts",
            s -> s.put("concepts", seventeenConcepts()),
            "spec.concepts: Too many: 17: must have at most 16 items"),
        bad(
            "secret reference without name",
            s -> map(s, "model").put("credentialsSecretRef", new LinkedHashMap<>()),
            "spec.model.credentialsSecretRef.name: Required value"),
        bad(
            "queue name too long",
            s -> s.put("queueName", "q".repeat(64)),
            "spec.queueName: Too long"),
        bad(
            "negative seed",
            s -> map(s, "method").put("seed", -1),
            "spec.method.seed in body should be greater than or equal to 0"),
        bad(
            "zero activeDeadlineSeconds",
            s -> s.put("activeDeadlineSeconds", 0),
            "spec.activeDeadlineSeconds in body should be greater than or equal to 1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badResources")
  void refusesABadResourceWithAMessageNamingTheField(
      String what, Consumer<Map<String, Object>> breakIt, String expected) {
    Map<String, Object> resource = asMap(Samples.nudity(namespace, "bad-" + counter++));
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) resource.get("spec");
    breakIt.accept(spec);
    assertThatThrownBy(() -> create(resource))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(
            e ->
                assertThat(((KubernetesClientException) e).getStatus().getMessage())
                    .contains(expected));
  }

  @Test
  void refusesANameTooLongForTheJobItNames() {
    Map<String, Object> resource =
        asMap(Samples.nudity(namespace, "n".repeat(ConceptErasure.MAX_NAME_LENGTH + 1)));
    assertThatThrownBy(() -> create(resource))
        .satisfies(
            e ->
                assertThat(((KubernetesClientException) e).getStatus().getMessage())
                    .contains("metadata.name must be at most 52 characters"));
  }

  @Test
  void specIsImmutableExceptSuspend() {
    KubernetesClient client = API_SERVER.client();
    ConceptErasure created = client.resource(Samples.nudity(namespace, "immutable")).create();

    ConceptErasure otherModel = client.getKubernetesSerialization().clone(created);
    otherModel.getSpec().getModel().setUri("s3://models/other");
    assertThatThrownBy(() -> client.resource(otherModel).update())
        .satisfies(
            e ->
                assertThat(((KubernetesClientException) e).getStatus().getMessage())
                    .contains("spec.model: Invalid value")
                    .contains("create a new ConceptErasure instead"));

    ConceptErasure addedImage = client.getKubernetesSerialization().clone(created);
    addedImage.getSpec().setImage("registry.example/other:1");
    assertThatThrownBy(() -> client.resource(addedImage).update())
        .satisfies(
            e ->
                assertThat(((KubernetesClientException) e).getStatus().getMessage())
                    .contains("create a new ConceptErasure instead"));

    ConceptErasure suspended = client.getKubernetesSerialization().clone(created);
    suspended.getSpec().setSuspend(true);
    assertThat(client.resource(suspended).update().getSpec().getSuspend()).isTrue();
  }

  private static void create(Map<String, Object> resource) {
    // Sent as generic JSON: the typed class would refuse some bad values before the server sees
    // them.
    KubernetesClient client = API_SERVER.client();
    GenericKubernetesResource generic =
        client.getKubernetesSerialization().convertValue(resource, GenericKubernetesResource.class);
    client
        .genericKubernetesResources(
            ConceptErasure.GROUP + "/" + ConceptErasure.VERSION, ConceptErasure.KIND)
        .inNamespace(namespace)
        .resource(generic)
        .create();
  }

  private static Arguments bad(
      String what, Consumer<Map<String, Object>> breakIt, String expected) {
    return Arguments.of(what, breakIt, expected);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(ConceptErasure erasure) {
    return API_SERVER
        .client()
        .getKubernetesSerialization()
        .convertValue(erasure, LinkedHashMap.class);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> parent, String key) {
    return (Map<String, Object>) parent.computeIfAbsent(key, k -> new LinkedHashMap<>());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> concept(Map<String, Object> spec) {
    return ((List<Map<String, Object>>) spec.get("concepts")).get(0);
  }

  private static List<Map<String, Object>> seventeenConcepts() {
    List<Map<String, Object>> concepts = new ArrayList<>();
    for (int i = 0; i < 17; i++) {
      concepts.add(new LinkedHashMap<>(Map.of("erase", "concept " + i)));
    }
    return concepts;
  }
}
