package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErasureRequestTest {
  @TempDir Path dir;

  private RequestFile read(String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return RequestFile.read(file);
  }

  @Test
  void readsEveryFieldOfTheSpecFromYaml() throws Exception {
    ErasureRequest request =
        read(
                "r.yaml",
                """
        model:
          uri: /models/toy-shapes
        concepts:
          - erase: circle
            alternative: square
          - erase: cross
        method:
          name: esd
          iterations: 12
          learningRate: 1.0e-4
          eta: 0.5
          lambda: 2.0
          guidanceScale: 4.5
          ddimSteps: 20
          parameters: crossAttentionKV
          seed: 9
          preservePrompts: [a red square]
          preserveWeight: 0.25
        output:
          uri: /out/erased
        evaluation:
          prompts: [a blue triangle]
          seeds: [3, 4]
        """)
            .toRequest();
    assertThat(request.model().uri()).isEqualTo("/models/toy-shapes");
    assertThat(request.concepts())
        .extracting(c -> c.erase(), c -> c.alternative())
        .containsExactly(Tuple.tuple("circle", "square"), Tuple.tuple("cross", null));
    ErasureRequest.Method m = request.method();
    assertThat(m.name().specName()).isEqualTo("esd");
    assertThat(m.iterations()).isEqualTo(12);
    assertThat(m.learningRate()).isEqualTo(1e-4);
    assertThat(m.eta()).isEqualTo(0.5);
    assertThat(m.lambda()).isEqualTo(2.0);
    assertThat(m.guidanceScale()).isEqualTo(4.5);
    assertThat(m.ddimSteps()).isEqualTo(20);
    assertThat(m.parameters().specName()).isEqualTo("crossAttentionKV");
    assertThat(m.seed()).isEqualTo(9L);
    assertThat(m.preservePrompts()).containsExactly("a red square");
    assertThat(m.preserveWeight()).isEqualTo(0.25);
    assertThat(request.output().uri()).isEqualTo("/out/erased");
    assertThat(request.evaluation().prompts()).containsExactly("a blue triangle");
    assertThat(request.evaluation().seeds()).containsExactly(3L, 4L);
  }

  @Test
  void jsonWorksAndMissingMethodFieldsTakeMethodMdDefaults() throws Exception {
    ErasureRequest request =
        read(
                "r.json",
                """
        {"model": {"uri": "/m"}, "concepts": [{"erase": "pig", "alternative": "cow"}], "output": {"uri": "/o"}}
        """)
            .toRequest();
    ErasureRequest.Method m = request.method();
    assertThat(m.name().specName()).isEqualTo("allButOne");
    assertThat(m.iterations()).isEqualTo(400);
    assertThat(m.learningRate()).isEqualTo(1e-5);
    assertThat(m.eta()).isEqualTo(1.0);
    assertThat(m.lambda()).isEqualTo(1.0);
    assertThat(m.guidanceScale()).isEqualTo(3.0);
    assertThat(m.ddimSteps()).isEqualTo(50);
    assertThat(m.parameters().specName()).isEqualTo("crossAttention");
    assertThat(m.seed()).isZero();
    assertThat(m.preservePrompts()).isEmpty();
  }

  @Test
  void canonicalJsonRoundTrips() throws Exception {
    ErasureRequest request =
        read(
                "r.json",
                """
        {"model": {"uri": "/m"}, "concepts": [{"erase": "pig"}], "output": {"uri": "/o"}, "method": {"lambda": 0}}
        """)
            .toRequest();
    Path again = dir.resolve("again.json");
    Files.writeString(again, request.toJson());
    assertThat(RequestFile.read(again).toRequest().toJson()).isEqualTo(request.toJson());
    assertThat(request.toJson()).contains("\"lambda\" : 0.0");
  }

  @Test
  void everyProblemIsNamedInOneMessage() throws Exception {
    RequestFile request =
        read(
            "r.yaml",
            """
        model: {uri: ""}
        concepts:
          - erase: "  "
          - erase: pig
            alternative: pig
        method: {name: magic, parameters: attention, iterations: 0, learningRate: -1, eta: -2}
        output: {uri: /o}
        """);
    assertThatThrownBy(request::toRequest)
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("model.uri is required")
        .hasMessageContaining("concepts[0].erase must not be empty")
        .hasMessageContaining("concepts[1].alternative must differ from concepts[1].erase ('pig')")
        .hasMessageContaining(
            "method.name: unknown method 'magic'; expected one of allButOne, esd, conceptAblation")
        .hasMessageContaining(
            "method.parameters: unknown parameter set 'attention'; expected one of crossAttention")
        .hasMessageContaining("method.iterations must be > 0 but was 0")
        .hasMessageContaining("method.learningRate must be in (0, 1] but was -1.0")
        .hasMessageContaining("method.eta must be a finite number >= 0 but was -2.0");
  }

  @Test
  void noConceptsIsInvalid() throws Exception {
    RequestFile request = read("r.yaml", "model: {uri: /m}\noutput: {uri: /o}\nconcepts: []\n");
    assertThatThrownBy(request::toRequest)
        .hasMessageContaining("concepts must name at least one concept to erase");
  }

  @Test
  void unknownFieldsAndBrokenFilesAreInvalidInput() throws Exception {
    assertThatThrownBy(() -> read("r.yaml", "model: {uri: /m}\nmetod: {name: esd}\n"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("unknown field 'metod'");
    assertThatThrownBy(() -> read("r.yaml", "method: {iterations: many}\n"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("is not a valid request");
    assertThatThrownBy(() -> RequestFile.read(dir.resolve("missing.yaml")))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void theExampleRequestsAreValid() throws Exception {
    Path examples = Path.of(System.getProperty("repo.root", "..")).resolve("examples/requests");
    try (var files = Files.list(examples)) {
      List<Path> requests = files.filter(p -> p.toString().endsWith(".yaml")).toList();
      assertThat(requests).isNotEmpty();
      for (Path file : requests) {
        ErasureRequest request = RequestFile.read(file).toRequest();
        assertThat(request.concepts()).as(file.toString()).isNotEmpty();
      }
    }
  }
}
