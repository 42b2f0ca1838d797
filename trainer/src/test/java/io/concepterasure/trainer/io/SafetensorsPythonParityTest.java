package io.concepterasure.trainer.io;

import static io.concepterasure.trainer.io.SafetensorsFiles.floats;
import static io.concepterasure.trainer.io.SafetensorsFiles.longs;
import static io.concepterasure.trainer.io.SafetensorsFiles.shorts;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.io.SafetensorsWriter.RawTensor;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compatibility with Python's {@code safetensors} (and diffusers' loader). The fixture tests run
 * everywhere: {@code parity/safetensors-python.safetensors} was written by {@code
 * tools/parity/safetensors_fixture.py}. The round trip through Python runs only where {@code
 * tools/parity/.venv} exists.
 */
class SafetensorsPythonParityTest {
  private static final Path REPO =
      Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  private static final Path PYTHON = REPO.resolve("tools/parity/.venv/bin/python");
  private static NDManager manager;

  @TempDir Path dir;

  @BeforeAll
  static void engine() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void closeEngine() {
    manager.close();
  }

  static boolean pythonAvailable() {
    return Files.isExecutable(PYTHON);
  }

  private static Path fixture() throws URISyntaxException {
    return Path.of(
        SafetensorsPythonParityTest.class
            .getResource("/parity/safetensors-python.safetensors")
            .toURI());
  }

  /** The tensors of the fixture, recomputed here from the formulas in safetensors_fixture.py. */
  private static List<RawTensor> fixtureTensors() {
    float[] conv = new float[24];
    for (int i = 0; i < conv.length; i++) {
      conv[i] = i * 0.25f - 3;
    }
    float[] bf = {1.0f, -3.5f, 0.15625f, 1e-3f, 3e38f, -0.0f};
    short[] bf16 = new short[bf.length];
    for (int i = 0; i < bf.length; i++) {
      bf16[i] = HalfPrecision.floatToBf16(bf[i]);
    }
    List<RawTensor> tensors =
        new ArrayList<>(
            List.of(
                new RawTensor(
                    "up_blocks.0.resnets.0.conv1.weight",
                    SafetensorsDtype.F32,
                    new long[] {2, 3, 2, 2},
                    floats(conv)),
                new RawTensor(
                    "down_blocks.0.norm.bias",
                    SafetensorsDtype.F16,
                    new long[] {5},
                    shorts(
                        (short) 0x3c00,
                        (short) 0xc000,
                        (short) 0x3800,
                        (short) 0x7bff,
                        (short) 0x0001)),
                new RawTensor(
                    "text_model.embeddings.weight",
                    SafetensorsDtype.BF16,
                    new long[] {2, 3},
                    shorts(bf16)),
                new RawTensor(
                    "text_model.embeddings.position_ids",
                    SafetensorsDtype.I64,
                    new long[] {1, 7},
                    longs(0, 1, 2, 3, 4, 5, 6)),
                new RawTensor(
                    "mask",
                    SafetensorsDtype.BOOL,
                    new long[] {3},
                    ByteBuffer.wrap(new byte[] {1, 0, 1})),
                new RawTensor(
                    "bytes",
                    SafetensorsDtype.U8,
                    new long[] {3},
                    ByteBuffer.wrap(new byte[] {0, 7, (byte) 255})),
                new RawTensor("scale", SafetensorsDtype.F32, new long[] {}, floats(0.18215f)),
                new RawTensor(
                    "empty", SafetensorsDtype.F32, new long[] {0, 4}, ByteBuffer.allocate(0))));
    return tensors;
  }

  @Test
  void readsAFileWrittenByPython() throws Exception {
    try (SafetensorsReader reader = SafetensorsReader.open(fixture())) {
      assertThat(reader.metadata()).isEqualTo(Map.of("format", "pt"));
      List<RawTensor> expected = fixtureTensors();
      assertThat(reader.names())
          .containsExactlyInAnyOrderElementsOf(expected.stream().map(RawTensor::name).toList());
      for (RawTensor t : expected) {
        SafetensorsReader.TensorInfo info = reader.info(t.name());
        assertThat(info.dtype()).as(t.name()).isEqualTo(t.dtype());
        assertThat(info.shape()).as(t.name()).isEqualTo(new Shape(t.shape()));
        if (t.dtype() == SafetensorsDtype.BF16) {
          try (NDArray read = reader.read(t.name(), manager, DataType.FLOAT32)) {
            float[] values = read.toFloatArray();
            for (int i = 0; i < values.length; i++) {
              assertThat(values[i]).isEqualTo(HalfPrecision.bf16ToFloat(t.data().getShort(2 * i)));
            }
          }
        } else {
          try (NDArray read = reader.read(t.name(), manager)) {
            assertThat(read.toByteBuffer()).as(t.name()).isEqualTo(t.data());
          }
        }
      }
    }
  }

  @Test
  void writesTheSameBytesAsPython() throws Exception {
    List<RawTensor> tensors = fixtureTensors();
    Collections.shuffle(tensors, new Random(1));
    Path file = dir.resolve("java.safetensors");
    SafetensorsWriter.writeRaw(file, tensors, Map.of("format", "pt"));
    assertThat(Files.readAllBytes(file)).isEqualTo(Files.readAllBytes(fixture()));
  }

  @Test
  @EnabledIf(
      value = "pythonAvailable",
      disabledReason =
          "needs tools/parity/.venv with torch, safetensors and diffusers (tools/parity/setup.sh)")
  void pythonAndDiffusersLoadWhatJavaWrites() throws Exception {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    tensors.put("mid_block.attentions.0.proj_in.weight", manager.randomNormal(new Shape(8, 4)));
    tensors.put("conv_in.bias", manager.randomNormal(new Shape(8)).toType(DataType.FLOAT16, false));
    tensors.put(
        "text_model.embeddings.position_ids",
        manager.arange(0, 77, 1, DataType.INT64).reshape(1, 77));
    tensors.put("scalar", manager.create(2.5f));
    tensors.put("unicode.é\"\\\n", manager.create(new byte[] {1, 2}));
    Path file = dir.resolve("diffusion_pytorch_model.safetensors");
    Map<String, String> metadata = Map.of("format", "pt");
    SafetensorsWriter.write(file, tensors, metadata);

    Path rewritten = dir.resolve("rewritten.safetensors");
    Process process =
        new ProcessBuilder(
                PYTHON.toString(),
                REPO.resolve("tools/parity/check_safetensors.py").toString(),
                file.toString(),
                "--rewrite",
                rewritten.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(out).isZero();

    JsonNode seen = new ObjectMapper().readTree(out);
    assertThat(seen.get("metadata").get("format").asText()).isEqualTo("pt");
    assertThat(seen.get("tensors").size()).isEqualTo(tensors.size());
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      JsonNode t = seen.get("tensors").get(e.getKey());
      assertThat(t).as(e.getKey()).isNotNull();
      assertThat(t.get("dtype").asText())
          .isEqualTo(SafetensorsDtype.of(e.getValue().getDataType()).name());
      List<Long> shape = new ArrayList<>();
      t.get("shape").forEach(d -> shape.add(d.asLong()));
      assertThat(shape).containsExactly(toObjects(e.getValue().getShape().getShape()));
      float[] expected = e.getValue().toType(DataType.FLOAT32, true).toFloatArray();
      float[] values = new float[t.get("values").size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) t.get("values").get(i).asDouble();
      }
      assertThat(values).as(e.getKey()).containsExactly(expected);
    }
    // Python's writer, given what it read from our file, writes our file again.
    assertThat(Files.readAllBytes(rewritten)).isEqualTo(Files.readAllBytes(file));
  }

  private static Long[] toObjects(long[] values) {
    Long[] out = new Long[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }
}
