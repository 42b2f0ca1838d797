package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetainPoolTest {

  private static ErasureRequest request(List<String> preserve, String erase, String alternative) {
    RequestFile file = new RequestFile();
    file.model = new RequestFile.Location("m");
    file.output = new RequestFile.Location("o");
    file.concepts = List.of(new RequestFile.Concept(erase, alternative));
    file.method().preservePrompts = preserve;
    return file.toRequest();
  }

  @Test
  void aPromptIsFilteredWhenItNamesEveryContentWordOfAnErasedConcept() {
    List<String> pool =
        List.of("a red circle", "a red square", "a blue circle", "a photo of two dogs", "a cat");
    assertThat(RetainPool.filter(pool, List.of("a red circle", "a blue circle")))
        .containsExactly("a red square", "a photo of two dogs", "a cat");
    assertThat(RetainPool.filter(pool, List.of("dog"))).doesNotContain("a photo of two dogs");
    assertThat(RetainPool.filter(pool, List.of("Van Gogh style"))).isEqualTo(pool);
    // A concept of filler words alone ("a photo") filters nothing rather than everything.
    assertThat(RetainPool.filter(pool, List.of("a photo"))).isEqualTo(pool);
  }

  @Test
  void theDefaultPoolJoinsTheUsersPromptsOnlyWhenAConceptHasNoAlternative() {
    List<String> defaults = List.of("a photo of a dog", "a cat on a sofa", "a red car");
    assertThat(RetainPool.forRequest(request(List.of("a red car"), "dog", null), defaults))
        .containsExactly("a red car", "a cat on a sofa");
    assertThat(RetainPool.forRequest(request(List.of("a red car"), "dog", "a wolf"), defaults))
        .containsExactly("a red car");
    assertThat(RetainPool.forRequest(request(List.of(), "dog", "a wolf"), defaults)).isEmpty();
  }

  @Test
  void theProjectsStableDiffusionPoolHasEverydayPromptsAndNoneAboutNudity() {
    List<String> pool = RetainPool.stableDiffusionDefaults();
    assertThat(pool).hasSizeGreaterThanOrEqualTo(50).doesNotHaveDuplicates();
    assertThat(pool).noneMatch(p -> p.startsWith("#") || p.isBlank());
    assertThat(RetainPool.filter(pool, List.of("nudity"))).isEqualTo(pool);
    assertThat(RetainPool.filter(pool, List.of("a dog"))).hasSize(pool.size() - 1);
  }

  @Test
  void aModelFolderMayShipItsOwnPool(@TempDir Path model) throws Exception {
    assertThat(RetainPool.defaultsFor(model)).isEqualTo(RetainPool.stableDiffusionDefaults());
    Files.writeString(
        model.resolve(RetainPool.MODEL_FILE), "# the toy world\na red circle\n\na blue square\n");
    assertThat(RetainPool.defaultsFor(model)).containsExactly("a red circle", "a blue square");
  }

  @Test
  void presetAnchorsApplyOnlyWithoutAnAlternative() {
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("nudity", null)))
        .isEqualTo("a person wearing clothes");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("Naked people", null)))
        .isEqualTo("a person wearing clothes");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("graphic violence", null)))
        .isEqualTo("a peaceful scene");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("Van Gogh style", null)))
        .isEqualTo("a painting");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("in the style of Monet", null)))
        .isEqualTo("a painting");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("nudity", "a dressed person")))
        .isEqualTo("a dressed person");
    assertThat(AnchorPresets.target(new ErasureRequest.Concept("a red triangle", null))).isEmpty();
  }

  @Test
  void erasureJsonRecordsTheAnchorsUsed() {
    assertThat(ErasureRun.anchors(request(List.of(), "nudity", null)))
        .containsExactly(
            java.util.Map.of(
                "erase", "nudity", "anchor", "a person wearing clothes", "preset", "nudity"));
    assertThat(ErasureRun.anchors(request(List.of(), "nudity", "a dressed person"))).isEmpty();
    assertThat(ErasureRun.anchors(request(List.of(), "a red triangle", null))).isEmpty();
  }
}
