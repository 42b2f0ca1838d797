package io.concepterasure.trainer.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import io.concepterasure.trainer.device.DeviceChoice.Runtime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceChoiceTest {
  static final Runtime CPU_IMAGE = new Runtime(false, 0);
  static final Runtime CUDA_NO_DRIVER = new Runtime(true, 0);
  static final Runtime TWO_GPUS = new Runtime(true, 2);

  @Test
  void autoTakesAGpuWhenOneIsVisibleAndTheCpuOtherwise() throws Exception {
    assertThat(DeviceChoice.choose("auto", 1, TWO_GPUS))
        .isEqualTo(new DeviceChoice(Device.gpu(0), "cuda:0"));
    assertThat(DeviceChoice.choose("auto", 0, CPU_IMAGE))
        .isEqualTo(new DeviceChoice(Device.cpu(), "cpu"));
    assertThat(DeviceChoice.choose(null, 0, CUDA_NO_DRIVER).name()).isEqualTo("cpu");
  }

  @Test
  void aGpuRequestWithNoVisibleGpuFailsNamingTheCause() {
    assertThatThrownBy(() -> DeviceChoice.choose("auto", 1, CPU_IMAGE))
        .isInstanceOf(DeviceChoice.UnavailableException.class)
        .hasMessageContaining("requested 1 GPU(s)")
        .hasMessageContaining("this is the CPU image");
    assertThatThrownBy(() -> DeviceChoice.choose("auto", 2, CUDA_NO_DRIVER))
        .hasMessageContaining("no NVIDIA device");
  }

  @Test
  void explicitDevicesAreHonouredOrRefused() throws Exception {
    assertThat(DeviceChoice.choose("cpu", 1, TWO_GPUS).name()).isEqualTo("cpu");
    assertThat(DeviceChoice.choose("cuda:1", 1, TWO_GPUS))
        .isEqualTo(new DeviceChoice(Device.gpu(1), "cuda:1"));
    assertThatThrownBy(() -> DeviceChoice.choose("cuda:2", 1, TWO_GPUS))
        .hasMessage("--device cuda:2 but only 2 GPU(s) are visible");
    assertThatThrownBy(() -> DeviceChoice.choose("cuda", 0, CPU_IMAGE))
        .hasMessageContaining("this is the CPU image");
    assertThatThrownBy(() -> DeviceChoice.choose("gpu", 0, TWO_GPUS))
        .hasMessage("--device: expected auto, cpu, cuda or cuda:N, got 'gpu'");
  }

  @Test
  void theRequestedGpusComeFromTheOperatorsVariable() throws Exception {
    assertThat(DeviceChoice.gpusRequested(Map.of())).isZero();
    assertThat(DeviceChoice.gpusRequested(Map.of("CE_GPUS", "2"))).isEqualTo(2);
    assertThatThrownBy(() -> DeviceChoice.gpusRequested(Map.of("CE_GPUS", "one")))
        .hasMessage("CE_GPUS: expected a number of GPUs, got 'one'");
  }

  @Test
  void theCudaFlavourIsKnownByItsLibrariesWhereNoDriverIs(@TempDir Path dir) throws Exception {
    assertThat(Runtime.cudaLibraries(null)).isFalse();
    assertThat(Runtime.cudaLibraries(dir.toString())).isFalse();
    Files.createFile(dir.resolve("libtorch_cuda.so"));
    assertThat(Runtime.cudaLibraries(dir.toString())).isTrue();
  }
}
