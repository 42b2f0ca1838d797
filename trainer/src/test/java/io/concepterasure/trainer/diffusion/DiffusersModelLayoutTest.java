package io.concepterasure.trainer.diffusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.trainer.diffusion.DiffusersModelLayout.Component;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffusersModelLayoutTest {
  @TempDir Path dir;

  /** model_index.json as diffusers 0.3x saves a StableDiffusionPipeline without safety checker. */
  private static final String MODEL_INDEX =
      """
      {
        "_class_name": "StableDiffusionPipeline",
        "_diffusers_version": "0.42.1",
        "feature_extractor": [null, null],
        "image_encoder": [null, null],
        "requires_safety_checker": true,
        "safety_checker": [null, null],
        "scheduler": ["diffusers", "DDIMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"]
      }
      """;

  private Path touch(String relative) throws IOException {
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.writeString(p, "{}");
    return p;
  }

  private void completeModel() throws IOException {
    Files.writeString(dir.resolve("model_index.json"), MODEL_INDEX);
    touch("unet/config.json");
    touch("unet/diffusion_pytorch_model.safetensors");
    touch("unet/diffusion_pytorch_model.fp16.safetensors");
    touch("vae/config.json");
    touch("vae/diffusion_pytorch_model.fp16.safetensors"); // only the fp16 variant
    touch("text_encoder/config.json");
    touch("text_encoder/model.safetensors.index.json"); // sharded
    touch("tokenizer/vocab.json");
    touch("tokenizer/merges.txt");
    touch("tokenizer/tokenizer_config.json");
    touch("scheduler/scheduler_config.json");
  }

  @Test
  void findsEveryComponentWithItsConfigAndWeights() throws IOException {
    completeModel();
    DiffusersModelLayout model = DiffusersModelLayout.open(dir);

    assertThat(model.pipelineClass()).isEqualTo("StableDiffusionPipeline");
    assertThat(model.components())
        .containsOnlyKeys("scheduler", "text_encoder", "tokenizer", "unet", "vae");
    assertThat(model.unet())
        .isEqualTo(
            new Component(
                "unet",
                "diffusers",
                "UNet2DConditionModel",
                dir.resolve("unet"),
                dir.resolve("unet/config.json"),
                dir.resolve("unet/diffusion_pytorch_model.safetensors")));
    assertThat(model.vae().weights())
        .isEqualTo(dir.resolve("vae/diffusion_pytorch_model.fp16.safetensors"));
    assertThat(model.textEncoder().weights())
        .isEqualTo(dir.resolve("text_encoder/model.safetensors.index.json"));
    assertThat(model.textEncoder().className()).isEqualTo("CLIPTextModel");
    assertThat(model.tokenizer().config())
        .isEqualTo(dir.resolve("tokenizer/tokenizer_config.json"));
    assertThat(model.tokenizer().weights()).isNull();
    assertThat(model.scheduler().config())
        .isEqualTo(dir.resolve("scheduler/scheduler_config.json"));
  }

  @Test
  void aVariantFallsBackToTheDefaultWeightsPerComponentAsInDiffusers() throws IOException {
    completeModel(); // the text encoder has no fp16 variant
    DiffusersModelLayout model =
        DiffusersModelLayout.open(dir, "fp16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS);
    assertThat(model.unet().weights())
        .isEqualTo(dir.resolve("unet/diffusion_pytorch_model.fp16.safetensors"));
    assertThat(model.textEncoder().weights())
        .isEqualTo(dir.resolve("text_encoder/model.safetensors.index.json"));
  }

  @Test
  void aVariantThatNoComponentHasIsRefused() throws IOException {
    completeModel();
    touch("vae/diffusion_pytorch_model.safetensors");
    assertThatThrownBy(
            () ->
                DiffusersModelLayout.open(
                    dir, "bf16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS))
        .isInstanceOf(InvalidModelFolderException.class)
        .hasMessage(dir + ": has no weights of variant 'bf16' in any component");
    Files.delete(dir.resolve("text_encoder/model.safetensors.index.json"));
    assertThatThrownBy(
            () ->
                DiffusersModelLayout.open(
                    dir, "fp16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS))
        .hasMessage(
            dir
                + ": is not a complete diffusers model:\n"
                + "  text_encoder/ has no model.fp16.safetensors or model.safetensors.index.fp16.json,"
                + " nor model.safetensors or model.safetensors.index.json");
  }

  @Test
  void aTokenizerJsonAloneIsATokenizer() throws IOException {
    completeModel();
    Files.delete(dir.resolve("tokenizer/vocab.json"));
    Files.delete(dir.resolve("tokenizer/merges.txt"));
    touch("tokenizer/tokenizer.json"); // what transformers 5 saves
    assertThat(DiffusersModelLayout.open(dir).tokenizer().folder())
        .isEqualTo(dir.resolve("tokenizer"));
    Files.delete(dir.resolve("tokenizer/tokenizer.json"));
    assertThatThrownBy(() -> DiffusersModelLayout.open(dir))
        .hasMessage(
            dir
                + ": is not a complete diffusers model:\n"
                + "  tokenizer/vocab.json is missing (and there is no tokenizer.json)\n"
                + "  tokenizer/merges.txt is missing (and there is no tokenizer.json)");
  }

  @Test
  void theFp16VariantWhenAsked() throws IOException {
    completeModel();
    touch("text_encoder/model.fp16.safetensors");
    DiffusersModelLayout model =
        DiffusersModelLayout.open(dir, "fp16", DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS);
    assertThat(model.unet().weights())
        .isEqualTo(dir.resolve("unet/diffusion_pytorch_model.fp16.safetensors"));
    assertThat(model.textEncoder().weights())
        .isEqualTo(dir.resolve("text_encoder/model.fp16.safetensors"));
    assertThat(DiffusersModelLayout.withVariant("model.safetensors.index.json", "fp16"))
        .isEqualTo("model.safetensors.index.fp16.json");
  }

  @Test
  void aFolderThatIsNotADiffusersModel() throws IOException {
    touch("model.ckpt");
    assertThatThrownBy(() -> DiffusersModelLayout.open(dir))
        .isInstanceOf(InvalidModelFolderException.class)
        .hasMessage(
            dir + ": is not a diffusers model folder: no model_index.json (found: model.ckpt)");
    Path absent = dir.resolve("nowhere");
    assertThatThrownBy(() -> DiffusersModelLayout.open(absent))
        .hasMessage(absent + ": no such folder");
    Files.writeString(dir.resolve("model_index.json"), "[]");
    assertThatThrownBy(() -> DiffusersModelLayout.open(dir))
        .hasMessage(dir + ": model_index.json is not a JSON object");
  }

  @Test
  void listsEverythingMissingAtOnce() throws IOException {
    Files.writeString(
        dir.resolve("model_index.json"),
        MODEL_INDEX.replace(
            "\"scheduler\": [\"diffusers\", \"DDIMScheduler\"],", "\"scheduler\": [null, null],"));
    touch("unet/diffusion_pytorch_model.safetensors"); // no config.json
    touch("vae/config.json");
    touch("vae/diffusion_pytorch_model.bin"); // pickled only
    touch("tokenizer/vocab.json"); // no merges.txt
    assertThatThrownBy(() -> DiffusersModelLayout.open(dir))
        .isInstanceOf(InvalidModelFolderException.class)
        .hasMessage(
            dir
                + ": is not a complete diffusers model:\n"
                + "  unet/config.json is missing\n"
                + "  vae/ has no diffusion_pytorch_model.safetensors or diffusion_pytorch_model.safetensors.index.json"
                + " (only pickled weights [diffusion_pytorch_model.bin], which are not loaded because unpickling runs"
                + " code; convert them to safetensors)\n"
                + "  text_encoder/ is missing (model_index.json declares transformers.CLIPTextModel)\n"
                + "  tokenizer/merges.txt is missing (and there is no tokenizer.json)\n"
                + "  model_index.json declares 'scheduler' as absent");
  }

  @Test
  void onlyTheRequiredComponentsMustBeComplete() throws IOException {
    completeModel();
    Files.writeString(
        dir.resolve("model_index.json"),
        MODEL_INDEX.replace(
            "\"safety_checker\": [null, null]",
            "\"safety_checker\": [\"stable_diffusion\", \"StableDiffusionSafetyChecker\"]"));
    DiffusersModelLayout model = DiffusersModelLayout.open(dir);
    assertThat(model.components()).doesNotContainKey("safety_checker");
    assertThatThrownBy(() -> model.component("safety_checker"))
        .hasMessage(dir + ": has no 'safety_checker' component");

    assertThatThrownBy(() -> DiffusersModelLayout.open(dir, null, List.of("unet", "controlnet")))
        .hasMessage(
            dir
                + ": is not a complete diffusers model:\n  model_index.json declares no 'controlnet' component");
  }
}
