package io.concepterasure.trainer.io;

import static io.concepterasure.trainer.io.SafetensorsFiles.floats;
import static io.concepterasure.trainer.io.SafetensorsFiles.longs;
import static io.concepterasure.trainer.io.SafetensorsFiles.shorts;
import static io.concepterasure.trainer.io.SafetensorsFiles.withHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.io.SafetensorsWriter.RawTensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
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

  @Test
  void roundTripKeepsNamesShapesDtypesValuesAndMetadata() throws IOException {
    Path file = dir.resolve("model.safetensors");
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    tensors.put("conv.weight", manager.arange(0f, 24f).reshape(2, 3, 2, 2));
    tensors.put("conv.bias", manager.create(new float[] {-1.5f, 2.25f}));
    tensors.put(
        "half", manager.create(new float[] {0.1f, 65504f, -3f}).toType(DataType.FLOAT16, false));
    tensors.put("position_ids", manager.arange(0, 5, 1, DataType.INT64).reshape(1, 5));
    tensors.put("scalar", manager.create(3.5f));
    tensors.put("empty", manager.create(new Shape(0, 4)));
    SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));

    try (SafetensorsReader reader = SafetensorsReader.open(file)) {
      assertThat(reader.names()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
      assertThat(reader.metadata()).containsExactly(Map.entry("format", "pt"));
      assertThat(reader.info("conv.weight").shape()).isEqualTo(new Shape(2, 3, 2, 2));
      assertThat(reader.info("half").dtype()).isEqualTo(SafetensorsDtype.F16);
      for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
        try (NDArray read = reader.read(e.getKey(), manager)) {
          assertThat(read.getDataType()).as(e.getKey()).isEqualTo(e.getValue().getDataType());
          assertThat(read.getShape()).as(e.getKey()).isEqualTo(e.getValue().getShape());
          assertThat(read.toByteBuffer()).as(e.getKey()).isEqualTo(e.getValue().toByteBuffer());
        }
      }
    }
  }

  @Test
  void readsF16AndBf16IntoFloat32Exactly() throws IOException {
    short[] all = new short[1 << 16];
    for (int i = 0; i < all.length; i++) {
      all[i] = (short) i;
    }
    Path file = dir.resolve("halves.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(
            new RawTensor("f16", SafetensorsDtype.F16, new long[] {256, 256}, shorts(all)),
            new RawTensor("bf16", SafetensorsDtype.BF16, new long[] {1 << 16}, shorts(all))),
        null);

    try (SafetensorsReader reader = SafetensorsReader.open(file);
        NDArray f16 = reader.read("f16", manager, DataType.FLOAT32);
        NDArray bf16 = reader.read("bf16", manager, DataType.FLOAT32)) {
      assertThat(f16.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(f16.getShape()).isEqualTo(new Shape(256, 256));
      float[] a = f16.toFloatArray();
      float[] b = bf16.toFloatArray();
      for (int i = 0; i < all.length; i++) {
        assertThat(Float.floatToIntBits(a[i]))
            .as("f16 0x%04x", i)
            .isEqualTo(Float.floatToIntBits(HalfPrecision.f16ToFloat((short) i)));
        // BF16 is the top half of a float32: the expected bits are the pattern shifted up.
        assertThat(Float.floatToIntBits(b[i]))
            .as("bf16 0x%04x", i)
            .isEqualTo(Float.floatToIntBits(Float.intBitsToFloat(i << 16)));
      }
      // And against PyTorch's own F16 -> F32 conversion of the same bits.
      try (NDArray native16 = reader.read("f16", manager);
          NDArray torch32 = native16.toType(DataType.FLOAT32, true)) {
        float[] t = torch32.toFloatArray();
        for (int i = 0; i < all.length; i++) {
          assertThat(Float.floatToIntBits(a[i]))
              .as("torch f16 0x%04x", i)
              .isEqualTo(Float.floatToIntBits(t[i]));
        }
      }
    }
  }

  @Test
  void readsF32AsF16LikePyTorch() throws IOException {
    SplittableRandom random = new SplittableRandom(3);
    float[] values = new float[10_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.scalb(random.nextDouble(-2, 2), random.nextInt(-26, 17));
    }
    Path file = dir.resolve("single.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(
            new RawTensor("w", SafetensorsDtype.F32, new long[] {values.length}, floats(values))),
        null);
    try (SafetensorsReader reader = SafetensorsReader.open(file);
        NDArray ours = reader.read("w", manager, DataType.FLOAT16);
        NDArray f32 = reader.read("w", manager);
        NDArray torch = f32.toType(DataType.FLOAT16, true)) {
      assertThat(ours.getDataType()).isEqualTo(DataType.FLOAT16);
      assertThat(ours.toByteBuffer()).isEqualTo(torch.toByteBuffer());
    }
  }

  @Test
  void refusesConversionsThatLoseMeaning() throws IOException {
    Path file = dir.resolve("ints.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(new RawTensor("ids", SafetensorsDtype.I64, new long[] {2}, longs(1, 2))),
        null);
    try (SafetensorsReader reader = SafetensorsReader.open(file)) {
      assertThatThrownBy(() -> reader.read("ids", manager, DataType.FLOAT32))
          .isInstanceOf(SafetensorsException.class)
          .hasMessage(file + ": tensor 'ids' is I64 and cannot be converted to F32");
      assertThatThrownBy(() -> reader.read("nope", manager))
          .hasMessage(file + ": has no tensor 'nope'");
    }
  }

  @Test
  void readsAcrossMappingChunkBoundaries() throws IOException {
    float[] a = {1, 2, 3, 4, 5};
    short[] b = {0x3c00, 0x4000, 0x4200};
    float[] c = {-7, 8.5f};
    Path file = dir.resolve("chunks.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(
            new RawTensor("a", SafetensorsDtype.F32, new long[] {5}, floats(a)),
            new RawTensor("b", SafetensorsDtype.F16, new long[] {3}, shorts(b)),
            new RawTensor("c", SafetensorsDtype.F32, new long[] {2}, floats(c))),
        null);
    // Chunks of 3 and 7 bytes split every tensor, and elements, across mappings.
    for (long chunk : new long[] {3, 7, 1 << 20}) {
      try (SafetensorsReader reader = SafetensorsReader.open(file, chunk);
          NDArray ra = reader.read("a", manager);
          NDArray rb = reader.read("b", manager, DataType.FLOAT32);
          NDArray rc = reader.read("c", manager)) {
        assertThat(ra.toFloatArray()).as("chunk %d", chunk).containsExactly(a);
        assertThat(rb.toFloatArray()).as("chunk %d", chunk).containsExactly(1f, 2f, 3f);
        assertThat(rc.toFloatArray()).as("chunk %d", chunk).containsExactly(c);
      }
    }
  }

  /**
   * A 3 GiB file, sparse so it takes no disk: the tensor after the first 3 GiB lies across the
   * boundary of two 1 GiB mappings and past every int offset.
   */
  @Test
  void readsTensorsPastTwoGibibytes() throws IOException {
    long pad = 3L << 30;
    long tail = pad - 8;
    String header =
        "{\"pad\":{\"dtype\":\"U8\",\"shape\":["
            + tail
            + "],\"data_offsets\":[0,"
            + tail
            + "]},"
            + "\"tail\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":["
            + tail
            + ","
            + (tail + 16)
            + "]}}";
    Path file = withHeader(dir.resolve("huge.safetensors"), header, new byte[0]);
    long dataStart = Files.size(file);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(dataStart + tail + 16);
      raf.seek(dataStart + tail);
      raf.write(floats(1.5f, -2f, 3f, 1e-3f).array());
    }
    try (SafetensorsReader reader = SafetensorsReader.open(file);
        NDArray read = reader.read("tail", manager)) {
      assertThat(reader.info("pad").byteLength()).isEqualTo(tail);
      assertThat(read.toFloatArray()).containsExactly(1.5f, -2f, 3f, 1e-3f);
    }
  }

  @Test
  void readsShardedCheckpointsThroughTheirIndex() throws IOException {
    SafetensorsWriter.writeRaw(
        dir.resolve("model-00001-of-00002.safetensors"),
        List.of(new RawTensor("a", SafetensorsDtype.F32, new long[] {2}, floats(1, 2))),
        Map.of("format", "pt"));
    SafetensorsWriter.writeRaw(
        dir.resolve("model-00002-of-00002.safetensors"),
        List.of(new RawTensor("b", SafetensorsDtype.F32, new long[] {1}, floats(3))),
        Map.of("format", "pt"));
    Path index = dir.resolve("model.safetensors.index.json");
    Files.writeString(
        index,
        "{\"metadata\":{\"total_size\":12},\"weight_map\":{"
            + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    try (SafetensorsReader reader = SafetensorsReader.open(index);
        NDArray b = reader.read("b", manager)) {
      assertThat(reader.names()).containsExactly("a", "b");
      assertThat(reader.metadata()).containsEntry("total_size", "12");
      assertThat(b.toFloatArray()).containsExactly(3f);
    }

    // A variant's index, as diffusers names it, is found the same way.
    Path variantIndex = dir.resolve("model.safetensors.index.fp16.json");
    Files.copy(index, variantIndex);
    try (SafetensorsReader reader = SafetensorsReader.open(variantIndex)) {
      assertThat(reader.names()).containsExactly("a", "b");
    }

    Files.writeString(index, "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}}");
    assertThatThrownBy(() -> SafetensorsReader.open(index))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            index
                + ": weight_map puts tensor 'a' in model-00002-of-00002.safetensors,"
                + " which has no such tensor");
    Files.writeString(index, "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}");
    assertThatThrownBy(() -> SafetensorsReader.open(index))
        .hasMessageContaining("not a file in the same folder");
  }

  // ---- bad input: each names the file and the problem ----

  private static final String ONE_TENSOR =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

  @Test
  void truncatedFile() throws IOException {
    Path file = withHeader(dir.resolve("t.safetensors"), ONE_TENSOR, new byte[12]);
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file
                + ": tensor 'w' has data_offsets [0, 16] past the end of the data"
                + " (12 bytes after the header; truncated?)");

    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsReader.open(tiny))
        .hasMessage(
            tiny + ": file is 3 bytes, too short for the 8-byte header length (truncated?)");
  }

  @Test
  void headerLengthLargerThanTheFile() throws IOException {
    Path file = withHeader(dir.resolve("h.safetensors"), ONE_TENSOR, new byte[16]);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, 40)); // cut inside the header
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file
                + ": header length "
                + ONE_TENSOR.length()
                + " is larger than the file (40 bytes; truncated or not a safetensors file)");
  }

  /** Runs under -Xmx4g: allocating the declared size would be an OutOfMemoryError, not this. */
  @Test
  void oneKilobyteFileClaimingAHundredGigabyteHeaderFailsAtOnce() throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
    bytes.putLong(100_000_000_000L);
    Path file = dir.resolve("liar.safetensors");
    Files.write(file, bytes.array());
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file
                + ": header length 100000000000 is larger than the file"
                + " (1024 bytes; truncated or not a safetensors file)");

    bytes.putLong(0, -1L); // 2^64 - 1 read as unsigned
    Files.write(file, bytes.array());
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .hasMessageContaining("header length 18446744073709551615 is larger than the file");
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    Path file =
        withHeader(
            dir.resolve("o.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}",
            new byte[16]);
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file
                + ": tensor 'w' has data_offsets [16, 32] past the end of the data"
                + " (16 bytes after the header; truncated?)");

    Path reversed =
        withHeader(
            dir.resolve("r.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}",
            new byte[8]);
    assertThatThrownBy(() -> SafetensorsReader.open(reversed))
        .hasMessage(reversed + ": tensor 'w' has data_offsets [8, 0] that end before they begin");
  }

  @Test
  void overlappingOffsets() throws IOException {
    Path file =
        withHeader(
            dir.resolve("ov.safetensors"),
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            new byte[12]);
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(file + ": tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]");
  }

  @Test
  void gapsAndTrailingBytes() throws IOException {
    Path gap =
        withHeader(
            dir.resolve("gap.safetensors"),
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
            new byte[12]);
    assertThatThrownBy(() -> SafetensorsReader.open(gap))
        .hasMessage(gap + ": tensor 'b' starts at 8, leaving a gap of 4 bytes after tensor 'a'");

    Path trailing = withHeader(dir.resolve("trail.safetensors"), ONE_TENSOR, new byte[20]);
    assertThatThrownBy(() -> SafetensorsReader.open(trailing))
        .hasMessage(
            trailing + ": tensors cover 16 bytes but the data section has 20 (4 trailing bytes)");
  }

  @Test
  void shapeAndOffsetsDisagree() throws IOException {
    Path file =
        withHeader(
            dir.resolve("s.safetensors"),
            "{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,16]}}",
            new byte[16]);
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .hasMessage(
            file
                + ": tensor 'w' of shape [2, 3] and dtype F16 needs 12 bytes"
                + " but its data_offsets [0, 16] hold 16");
  }

  @Test
  void headerThatIsNotAJsonObject() throws IOException {
    Path array = withHeader(dir.resolve("a.safetensors"), "[1, 2, 3]", new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(array))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(array + ": header is not a JSON object but ARRAY");

    Path broken = withHeader(dir.resolve("b.safetensors"), "{\"w\": {\"dtype\":", new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(broken))
        .hasMessageStartingWith(broken + ": header is not valid JSON: ");

    Path entry = withHeader(dir.resolve("e.safetensors"), "{\"w\": 5}", new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(entry))
        .hasMessage(entry + ": tensor 'w' is described by NUMBER, not an object");

    Path meta =
        withHeader(dir.resolve("m.safetensors"), "{\"__metadata__\":{\"epoch\":3}}", new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(meta))
        .hasMessage(
            meta + ": __metadata__ value of 'epoch' is NUMBER, but the format allows only strings");

    Path duplicate = withHeader(dir.resolve("d.safetensors"), "{\"w\":{},\"w\":{}}", new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(duplicate))
        .hasMessageStartingWith(duplicate + ": header is not valid JSON: Duplicate field 'w'");
  }

  @Test
  void unknownDtype() throws IOException {
    Path file =
        withHeader(
            dir.resolve("u.safetensors"),
            "{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}",
            new byte[16]);
    assertThatThrownBy(() -> SafetensorsReader.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageStartingWith(
            file + ": tensor 'w' has unknown dtype \"F128\"; known: [BOOL, U8,");
  }

  @Test
  void badShapeValues() throws IOException {
    Path negative =
        withHeader(
            dir.resolve("n.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}",
            new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(negative))
        .hasMessage(
            negative + ": tensor 'w' has \"shape\" [-1]; entries must be non-negative integers");

    Path overflow =
        withHeader(
            dir.resolve("of.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
            new byte[0]);
    assertThatThrownBy(() -> SafetensorsReader.open(overflow))
        .hasMessage(overflow + ": tensor 'w' has shape [4294967296, 4294967296], too large");
  }

  @Test
  void missingFile() {
    Path file = dir.resolve("absent.safetensors");
    assertThatThrownBy(() -> SafetensorsReader.open(file)).hasMessage(file + ": no such file");
  }
}
