package io.concepterasure.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.trainer.storage.StorageUri.Scheme;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StorageUriTest {
  @Test
  void s3() {
    StorageUri uri = StorageUri.parse("s3://erased-models/runs/nudity/");
    assertThat(uri).isEqualTo(new StorageUri(Scheme.S3, "erased-models", "runs/nudity", null));
    assertThat(uri.toString()).isEqualTo("s3://erased-models/runs/nudity");
    assertThat(uri.resolve("unet/config.json").toString())
        .isEqualTo("s3://erased-models/runs/nudity/unet/config.json");
    assertThat(StorageUri.parse("s3://models"))
        .isEqualTo(new StorageUri(Scheme.S3, "models", "", null));
  }

  @Test
  void pvcResolvesUnderTheMountRoot() {
    StorageUri uri = StorageUri.parse("pvc://model-cache/sd-1.4");
    assertThat(uri).isEqualTo(new StorageUri(Scheme.PVC, "model-cache", "sd-1.4", null));
    assertThat(uri.localPath(Path.of("/mnt/pvc")))
        .isEqualTo(Path.of("/mnt/pvc/model-cache/sd-1.4"));
    assertThat(StorageUri.parse("pvc://cache").localPath(Path.of("/mnt/pvc")))
        .isEqualTo(Path.of("/mnt/pvc/cache"));
  }

  @Test
  void filesAndPlainPaths() {
    assertThat(StorageUri.parse("file:///data/models/sd"))
        .isEqualTo(new StorageUri(Scheme.FILE, "", "/data/models/sd", null));
    assertThat(StorageUri.parse("/data/models/sd").localPath(null))
        .isEqualTo(Path.of("/data/models/sd"));
    assertThat(StorageUri.parse("models/sd").localPath(null))
        .isEqualTo(Path.of("models/sd").toAbsolutePath());
  }

  @Test
  void huggingFaceIsAModelSourceNeverAStore() {
    StorageUri uri = StorageUri.parse("hf://CompVis/stable-diffusion-v1-4@main");
    assertThat(uri)
        .isEqualTo(
            new StorageUri(Scheme.HUGGING_FACE, "", "CompVis/stable-diffusion-v1-4", "main"));
    assertThat(uri.toString()).isEqualTo("hf://CompVis/stable-diffusion-v1-4@main");
    assertThatThrownBy(() -> ObjectStore.open(uri, null, Path.of("/mnt/pvc")))
        .isInstanceOf(StorageException.class)
        .hasMessage(
            "hf://CompVis/stable-diffusion-v1-4@main: the Hugging Face Hub is a model source only;"
                + " write the output to s3:// or pvc://")
        .satisfies(e -> assertThat(((StorageException) e).invalidInput()).isTrue());
  }

  @Test
  void badLocationsNameTheProblem() {
    assertThatThrownBy(() -> StorageUri.parse("gs://bucket/model"))
        .isInstanceOf(InvalidStorageUriException.class)
        .hasMessage(
            "'gs://bucket/model' has unsupported scheme 'gs'; use s3://bucket/prefix, pvc://claim/path or a file path");
    assertThatThrownBy(() -> StorageUri.parse("s3://Bad_Bucket/x"))
        .hasMessage(
            "'s3://Bad_Bucket/x' has no valid bucket name (3-63 lowercase letters, digits, '.', '-')");
    assertThatThrownBy(() -> StorageUri.parse("pvc://cache/../etc"))
        .hasMessage("'pvc://cache/../etc' has an empty, '.' or '..' path segment");
    assertThatThrownBy(() -> StorageUri.parse("pvc://Cache/x"))
        .hasMessage("'pvc://Cache/x' has no valid claim name (a Kubernetes DNS-1123 name)");
    assertThatThrownBy(() -> StorageUri.parse("hf://just-a-name"))
        .hasMessage("'hf://just-a-name' must be hf://org/name or hf://org/name@revision");
    assertThatThrownBy(() -> StorageUri.parse("file://relative"))
        .hasMessage("'file://relative' must be file:///absolute/path");
    assertThatThrownBy(() -> StorageUri.parse(" ")).hasMessage("' ' is empty");
    assertThatThrownBy(() -> StorageUri.parse("s3://models/a").resolve("../b"))
        .hasMessage("object name '../b' must be relative, without empty, '.' or '..' segments");
  }
}
