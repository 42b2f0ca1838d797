package io.concepterasure.trainer.diffusion;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout.Component;
import io.concepterasure.trainer.io.SafetensorsReader;
import io.concepterasure.trainer.io.SafetensorsWriter;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The models diffusers itself saved (tools/parity/make_fixtures.py): the layout is found, every
 * tensor of every component reads, and our writer reproduces diffusers' weight files byte for byte.
 */
@EnabledIf(
    value = "fixturesPresent",
    disabledReason =
        "needs the parity fixtures under trainer/src/test/resources/parity (branch parity)")
class ParityModelFolderTest {
  @TempDir Path dir;

  static boolean fixturesPresent() {
    return ParityModelFolderTest.class.getResource("/parity/sd1-tiny/model_index.json") != null;
  }

  private static Path model(String name) throws URISyntaxException {
    URL index = ParityModelFolderTest.class.getResource("/parity/" + name + "/model_index.json");
    return Path.of(index.toURI()).getParent();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
  void diffusersSavedModelsLoadAndRewriteByteForByte(String name) throws Exception {
    DiffusersModelLayout layout = DiffusersModelLayout.open(model(name));
    assertThat(layout.pipelineClass()).isEqualTo("StableDiffusionPipeline");
    assertThat(layout.unet().className()).isEqualTo("UNet2DConditionModel");
    assertThat(layout.textEncoder().weights().getFileName().toString())
        .isEqualTo("model.safetensors");

    try (NDManager manager = NDManager.newBaseManager()) {
      for (Component component :
          new Component[] {layout.unet(), layout.vae(), layout.textEncoder()}) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        Map<String, String> metadata;
        try (SafetensorsReader reader = SafetensorsReader.open(component.weights())) {
          metadata = reader.metadata();
          assertThat(reader.names()).as(component.name()).isNotEmpty();
          for (String tensor : reader.names()) {
            NDArray stored = reader.read(tensor, manager);
            assertThat(stored.getShape()).as(tensor).isEqualTo(reader.info(tensor).shape());
            if (stored.getDataType().isFloating()) {
              try (NDArray f32 = reader.read(tensor, manager, DataType.FLOAT32)) {
                assertThat(f32.isInfinite().any().getBoolean()).as(tensor).isFalse();
                assertThat(f32.isNaN().any().getBoolean()).as(tensor).isFalse();
              }
            }
            tensors.put(tensor, stored);
          }
        }
        Path rewritten = dir.resolve(name + "-" + component.name() + ".safetensors");
        SafetensorsWriter.write(rewritten, tensors, metadata.isEmpty() ? null : metadata);
        assertThat(Files.readAllBytes(rewritten))
            .as(component.name())
            .isEqualTo(Files.readAllBytes(component.weights()));
      }
    }
  }
}
