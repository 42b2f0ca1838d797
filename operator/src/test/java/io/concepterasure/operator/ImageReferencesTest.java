package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.operator.config.OperatorSettings;
import io.smallrye.config.WithDefault;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The chart, the manifests and the operator's default name the images this build makes
 * (trainer/target/trainer-image.tar, operator/target/operator-image.tar): the Maven project's
 * version. A release that changes the version fails here until they follow.
 */
class ImageReferencesTest {
  static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  static final String VERSION = System.getProperty("project.version");
  static final String OPERATOR = "ghcr.io/concepterasure/operator:" + VERSION;
  static final String TRAINER = "ghcr.io/concepterasure/trainer:" + VERSION + "-cpu";
  static final String TRAINER_GPU = "ghcr.io/concepterasure/trainer:" + VERSION + "-cuda";

  @Test
  void theOperatorsDefaultTrainerImageIsTheBuildsCpuImage() throws Exception {
    assertThat(
            OperatorSettings.class
                .getMethod("trainerImage")
                .getAnnotation(WithDefault.class)
                .value())
        .isEqualTo(TRAINER);
    assertThat(
            OperatorSettings.class
                .getMethod("trainerGpuImage")
                .getAnnotation(WithDefault.class)
                .value())
        .isEqualTo(TRAINER_GPU);
  }

  @Test
  void theChartNamesTheBuildsImages() throws Exception {
    Path chart = REPO.resolve("charts/concept-erasure-operator");
    assertThat(Files.readString(chart.resolve("Chart.yaml")))
        .contains("appVersion: \"" + VERSION + "\"");
    assertThat(Files.readString(chart.resolve("values.yaml")))
        .contains("repository: ghcr.io/concepterasure/operator\n")
        .contains("trainerImage: " + TRAINER + "\n")
        .contains("trainerGpuImage: " + TRAINER_GPU + "\n");
  }

  @Test
  void theManifestsNameTheBuildsImages() throws Exception {
    assertThat(Files.readString(REPO.resolve("manifests/operator.yaml")))
        .contains("image: " + OPERATOR + "\n")
        .contains("value: " + TRAINER + "\n")
        .contains("value: " + TRAINER_GPU + "\n");
  }
}
