package io.concepterasure.trainer.io;

import static io.concepterasure.trainer.io.SafetensorsFiles.floats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.trainer.io.SafetensorsWriter.RawTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
  @TempDir Path dir;

  @Test
  void headerIsCompactJsonPaddedWithSpacesToEightBytes() throws IOException {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("erased", "nudity");
    Path file = dir.resolve("m.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(
            new RawTensor("b", SafetensorsDtype.F32, new long[] {1}, floats(2)),
            new RawTensor("a", SafetensorsDtype.F32, new long[] {2}, floats(0, 1))),
        metadata);

    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    long n = bytes.getLong();
    assertThat(n % 8).isZero();
    assertThat(bytes.capacity()).isEqualTo(8 + n + 12);
    String header = new String(bytes.array(), 8, (int) n, StandardCharsets.UTF_8);
    String json =
        "{\"__metadata__\":{\"format\":\"pt\",\"erased\":\"nudity\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    assertThat(header).isEqualTo(json + " ".repeat((int) n - json.length()));
    assertThat(
            bytes
                .position(8 + (int) n)
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(2))
        .isEqualTo(2f);
  }

  @Test
  void aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
    Path file = dir.resolve("unet.safetensors");
    SafetensorsWriter.writeRaw(
        file, List.of(new RawTensor("w", SafetensorsDtype.F32, new long[] {1}, floats(1))), null);
    byte[] before = Files.readAllBytes(file);

    assertThatThrownBy(
            () ->
                SafetensorsWriter.writeRaw(
                    file,
                    List.of(
                        new RawTensor("a", SafetensorsDtype.F32, new long[] {1}, floats(1)),
                        new RawTensor("w", SafetensorsDtype.F32, new long[] {3}, floats(1, 2))),
                    null))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file.toAbsolutePath()
                + ": tensor 'w' of shape [3] and dtype F32 needs 12 bytes but 8 were given");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void theFileIsAsReadableAsAnyNewFileInItsFolder() throws IOException {
    Path file = dir.resolve("unet.safetensors");
    SafetensorsWriter.writeRaw(
        file, List.of(new RawTensor("w", SafetensorsDtype.F32, new long[] {1}, floats(1))), null);
    // What the umask gives a plain new file (diffusers on another uid must read the model).
    Path plain = Files.createFile(dir.resolve("plain"));
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(Files.getPosixFilePermissions(plain));
  }

  @Test
  void metadataKeyIsNotATensorName() {
    Path file = dir.resolve("x.safetensors");
    assertThatThrownBy(
            () ->
                SafetensorsWriter.writeRaw(
                    file,
                    List.of(
                        new RawTensor(
                            "__metadata__", SafetensorsDtype.F32, new long[] {1}, floats(1))),
                    null))
        .hasMessage(file + ": '__metadata__' is reserved and cannot name a tensor");
    assertThat(Files.exists(file)).isFalse();
  }
}
