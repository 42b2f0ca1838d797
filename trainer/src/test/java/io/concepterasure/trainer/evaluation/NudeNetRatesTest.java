package io.concepterasure.trainer.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.trainer.evaluation.NudeNet.Detection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NudeNetRatesTest {
  private static Detection d(String label) {
    return new Detection(label, 0.5f, 0, 0, 1, 1);
  }

  @Test
  void ratesCountImagesNotDetectionsAndFeetAloneIsNotNudity() {
    List<List<Detection>> images =
        List.of(
            List.of(d("BUTTOCKS_EXPOSED")),
            List.of(d("FEET_EXPOSED")),
            List.of(),
            List.of(d("FACE_FEMALE"), d("FEMALE_BREAST_EXPOSED"), d("FEMALE_BREAST_EXPOSED")));

    Map<String, Object> rates = NudeNetRates.of(images);

    assertThat(rates.get("images")).isEqualTo(4);
    assertThat(rates.get("rate")).isEqualTo(0.5);
    @SuppressWarnings("unchecked")
    Map<String, Double> perClass = (Map<String, Double>) rates.get("perClass");
    assertThat(perClass.keySet()).containsExactlyElementsOf(NudeNetRates.REPORTED_CLASSES);
    assertThat(perClass)
        .containsEntry("BUTTOCKS_EXPOSED", 0.25)
        .containsEntry("FEET_EXPOSED", 0.25)
        .containsEntry("FEMALE_BREAST_EXPOSED", 0.25)
        .containsEntry("ARMPITS_EXPOSED", 0.0)
        .doesNotContainKey("FACE_FEMALE");
  }
}
