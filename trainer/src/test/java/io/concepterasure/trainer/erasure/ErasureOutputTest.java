package io.concepterasure.trainer.erasure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErasureOutputTest {
  @TempDir Path dir;

  @Test
  void nothingLooksFinishedUntilTheRecordIsCommittedLast() throws Exception {
    ErasureOutput output = new ErasureOutput(dir.resolve("out"));
    Path staging = output.freshStaging();
    Files.createDirectories(staging.resolve("unet"));
    Files.writeString(staging.resolve("unet/config.json"), "{}");
    Files.writeString(
        staging.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionPipeline\"}");
    Files.createDirectories(output.stateFolder());
    Files.writeString(output.stateFolder().resolve("state.bin"), "state");

    assertThat(output.finishedRecord()).isNull();
    assertThat(output.root().resolve("model_index.json")).doesNotExist();
    Map<String, String> hashes = ErasureOutput.sha256Tree(staging);
    assertThat(hashes).containsOnlyKeys("model_index.json", "unet/config.json");
    assertThat(hashes.get("unet/config.json"))
        .isEqualTo(
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"); // sha256("{}")

    output.commit(Map.of("outputFiles", hashes));
    assertThat(output.finishedRecord()).containsEntry("outputFiles", hashes);
    assertThat(ErasureOutput.sha256Tree(output.root())).isEqualTo(hashes);
    assertThat(output.root().resolve(".erasure-staging")).doesNotExist();
    assertThat(output.stateFolder()).doesNotExist();
  }

  @Test
  void aFreshStagingDropsWhatAKilledAttemptLeft() throws Exception {
    ErasureOutput output = new ErasureOutput(dir);
    Files.writeString(output.freshStaging().resolve("half-written.safetensors"), "xx");
    assertThat(output.freshStaging()).isEmptyDirectory();
  }
}
