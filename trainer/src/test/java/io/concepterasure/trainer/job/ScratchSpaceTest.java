package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.concepterasure.trainer.storage.StorageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchSpaceTest {
  @TempDir Path scratch;

  @Test
  void theOperatorsLimitCountsWhatIsAlreadyWritten() throws Exception {
    Files.write(scratch.resolve("libtorch.so"), new byte[4000]);
    ScratchSpace space = ScratchSpace.from(scratch, Map.of("CE_SCRATCH_SIZE_BYTES", "10000"));
    assertThat(space.free()).isEqualTo(6000);
    space.require(6000, "hf://org/model");
    assertThatThrownBy(() -> space.require(2_500_000_000L, "hf://org/model"))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessage(
            "hf://org/model needs 2.50 GB (2,500,000,000 bytes) on the scratch volume "
                + scratch
                + ", which has 6.00 kB (6,000 bytes) free of its 10.00 kB (10,000 bytes);"
                + " raise spec.resources.scratch");
  }

  @Test
  void withoutALimitTheDisksFreeSpaceCounts() throws Exception {
    ScratchSpace space = ScratchSpace.from(scratch, Map.of());
    // Other processes write to the same disk between the two reads: equal within 256 MiB.
    assertThat(space.free())
        .isCloseTo(Files.getFileStore(scratch).getUsableSpace(), within(256L << 20));
    assertThatThrownBy(() -> space.require(Long.MAX_VALUE, "s3://models/sd"))
        .hasMessageStartingWith("s3://models/sd needs ")
        .hasMessageNotContaining("free of its");
  }

  @Test
  void aLimitThatIsNotANumberIsRefused() {
    assertThatThrownBy(() -> ScratchSpace.from(scratch, Map.of("CE_SCRATCH_SIZE_BYTES", "32Gi")))
        .hasMessage("CE_SCRATCH_SIZE_BYTES must be a number of bytes, got '32Gi'");
  }
}
