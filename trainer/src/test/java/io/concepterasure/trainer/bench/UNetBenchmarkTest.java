package io.concepterasure.trainer.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionConfig;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.erasure.TrainableParameterSet;
import io.concepterasure.trainer.io.SafetensorsWriter;
import io.concepterasure.trainer.io.StateDictLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's training step on the tiny SD 1.x UNet: what it updates, and its input checks. */
class UNetBenchmarkTest {
  private static final String CROSS_ATTENTION =
      "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight";
  private static final String SELF_ATTENTION =
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.weight";

  @TempDir Path tmp;

  private static UNet2DConditionModel tinyUnet(NDManager manager) throws Exception {
    Path dir = ParityFixture.root().resolve("sd1-tiny/unet");
    UNet2DConditionModel unet =
        new UNet2DConditionModel(UNet2DConditionConfig.read(dir.resolve("config.json")));
    StateDictLoader.load(
        unet, dir.resolve("diffusion_pytorch_model.safetensors"), manager, DataType.FLOAT32);
    return unet;
  }

  @Test
  void trainingStepsUpdateOnlyTheChosenParametersAndFreeTheirArrays() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = tinyUnet(manager);
      UNetBenchmark.Inputs inputs = UNetBenchmark.Inputs.random(unet.config(), 1, 16, manager, 2);
      UNetBenchmark bench =
          new UNetBenchmark(unet, inputs, TrainableParameterSet.CROSS_ATTENTION, 1e-3f);
      bench.inferStep();
      float[] crossBefore = unet.namedParameters().get(CROSS_ATTENTION).array().toFloatArray();
      float[] selfBefore = unet.namedParameters().get(SELF_ATTENTION).array().toFloatArray();
      int arraysBefore = manager.getManagedArrays().size();

      float loss = bench.trainStep();
      bench.trainStep();
      bench.inferStep();

      assertThat(loss).isFinite().isPositive();
      assertThat(unet.namedParameters().get(CROSS_ATTENTION).array().toFloatArray())
          .isNotEqualTo(crossBefore);
      assertThat(unet.namedParameters().get(SELF_ATTENTION).array().toFloatArray())
          .isEqualTo(selfBefore);
      // each step's arrays are closed with its scope; only the gradient buffers may remain attached
      assertThat(manager.getManagedArrays().size()).isLessThanOrEqualTo(arraysBefore);
      bench.close();
    }
  }

  @Test
  void frozenFp16ReportsTheFloat16UNetsSmallButNonZeroErrorAndItsTime() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = tinyUnet(manager);
      UNetBenchmark.Inputs inputs = UNetBenchmark.Inputs.random(unet.config(), 1, 16, manager, 2);
      try (UNetBenchmark bench =
          new UNetBenchmark(unet, inputs, TrainableParameterSet.CROSS_ATTENTION, 1e-3f)) {
        Map<String, Object> v =
            bench.frozenFp16(
                ParityFixture.root().resolve("sd1-tiny/unet/diffusion_pytorch_model.safetensors"),
                2);
        assertThat((List<?>) v.get("infer_fp16_step_ms_all")).hasSize(2);
        // float16 rounding, compounded over the layers: well under 1%, never exactly 0.
        assertThat((double) v.get("fp16_vs_fp32_rms_relative")).isPositive().isLessThan(0.01);
        assertThat((double) v.get("fp16_vs_fp32_max_abs_relative")).isPositive().isLessThan(0.01);
      }
    }
  }

  @Test
  void inputsFileMissingATensorIsNamed() throws Exception {
    Path file = tmp.resolve("inputs.safetensors");
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray sample = manager.zeros(new Shape(1, 4, 16, 16));
      SafetensorsWriter.write(file, Map.of("sample", sample, "target", sample), Map.of());
      assertThatThrownBy(() -> UNetBenchmark.Inputs.read(file, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("encoder_hidden_states")
          .hasMessageContaining("timestep");
    }
  }

  @Test
  void inputsThatDoNotFitTheModelAreRejected() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      UNet2DConditionModel unet = tinyUnet(manager);
      UNetBenchmark.Inputs good = UNetBenchmark.Inputs.random(unet.config(), 1, 16, manager, 2);
      UNetBenchmark.Inputs wrongContext =
          new UNetBenchmark.Inputs(
              good.sample(), manager.zeros(new Shape(1, 77, 768)), good.target(), good.timestep());
      assertThatThrownBy(
              () -> new UNetBenchmark(unet, wrongContext, TrainableParameterSet.ALL, 1e-5f))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("encoder_hidden_states must be [1, tokens, 32]");
    }
  }

  @Test
  void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertThat(UNetBenchmark.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
    assertThat(UNetBenchmark.median(List.of(5.0, 1.0, 3.0))).isEqualTo(3.0);
  }
}
