package io.concepterasure.trainer.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes safetensors files that load unchanged in Python's {@code safetensors} and in diffusers,
 * byte for byte what the reference writer produces for the same tensors: tensors laid out widest
 * dtype first and then by name (so every tensor stays aligned to its element size), a compact JSON
 * header padded with spaces to a multiple of 8 bytes, {@code __metadata__} first.
 *
 * <p>The file is written under a temporary name in the target folder and moved into place at the
 * end, so a crash never leaves a half-written checkpoint under the real name.
 */
public final class SafetensorsWriter {
  private SafetensorsWriter() {}

  /**
   * One tensor to write from raw little-endian bytes (for dtypes DJL cannot hold, such as BF16).
   */
  public record RawTensor(String name, SafetensorsDtype dtype, long[] shape, ByteBuffer data) {}

  /**
   * Writes {@code tensors} (any order; the file's order is the format's) with {@code metadata} as
   * {@code __metadata__}, omitted when {@code null}.
   */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
      throws IOException {
    List<Source> sources = new ArrayList<>(tensors.size());
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      NDArray array = e.getValue();
      DataType type = array.getDataType();
      SafetensorsDtype dtype = SafetensorsDtype.of(type);
      if (dtype == null || dtype == SafetensorsDtype.BF16) {
        throw new SafetensorsException(
            file,
            "tensor '"
                + e.getKey()
                + "' is "
                + type
                + ", which this writer does not store;"
                + " convert it to FLOAT32 or FLOAT16 first");
      }
      sources.add(
          new Source(e.getKey(), dtype, array.getShape().getShape()) {
            @Override
            ByteBuffer bytes() {
              // A direct view of the tensor's own memory (a contiguous copy if it is not), written
              // at once while the tensor lives: toByteBuffer() would copy each tensor into a heap
              // array, garbage that a 3.4 GB UNet piles up faster than the heap collects it, and
              // FileChannel would copy that again into a cached direct buffer of the largest
              // tensor's size. DJL hands the data back in native order; the format is
              // little-endian.
              ByteBuffer data = array.toByteBuffer(true);
              if (data.order() != ByteOrder.LITTLE_ENDIAN && dtype.byteSize() > 1) {
                throw new UnsupportedOperationException("big-endian platforms are not supported");
              }
              return data;
            }
          });
    }
    writeSources(file, sources, metadata);
  }

  /** Writes tensors given as raw little-endian bytes. */
  public static void writeRaw(Path file, List<RawTensor> tensors, Map<String, String> metadata)
      throws IOException {
    List<Source> sources = new ArrayList<>(tensors.size());
    for (RawTensor t : tensors) {
      sources.add(
          new Source(t.name(), t.dtype(), t.shape()) {
            @Override
            ByteBuffer bytes() {
              return t.data().duplicate();
            }
          });
    }
    writeSources(file, sources, metadata);
  }

  private abstract static class Source {
    final String name;
    final SafetensorsDtype dtype;
    final long[] shape;
    final long byteLength;

    Source(String name, SafetensorsDtype dtype, long[] shape) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape.clone();
      long count = 1;
      for (long d : shape) {
        count = Math.multiplyExact(count, d);
      }
      this.byteLength = Math.multiplyExact(count, (long) dtype.byteSize());
    }

    abstract ByteBuffer bytes();
  }

  private static void writeSources(Path file, List<Source> sources, Map<String, String> metadata)
      throws IOException {
    List<Source> ordered = new ArrayList<>(sources);
    // The reference writer's order: widest dtype (by its enum order) first, then name bytes.
    ordered.sort(
        Comparator.comparing((Source s) -> s.dtype)
            .reversed()
            .thenComparing((a, b) -> Arrays.compareUnsigned(utf8(a.name), utf8(b.name))));
    byte[] header = header(file, ordered, metadata);

    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    // Not Files.createTempFile: its file is owner-only (0600), and the model would stay so,
    // unreadable
    // to another user sharing the volume. A new file takes the process's umask, like any other
    // output.
    Path temp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel out =
          FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        length.putLong(header.length).flip();
        writeFully(out, length);
        writeFully(out, ByteBuffer.wrap(header));
        for (Source s : ordered) {
          ByteBuffer data = s.bytes();
          if (data.remaining() != s.byteLength) {
            throw new SafetensorsException(
                file,
                "tensor '"
                    + s.name
                    + "' of shape "
                    + Arrays.toString(s.shape)
                    + " and dtype "
                    + s.dtype
                    + " needs "
                    + s.byteLength
                    + " bytes but "
                    + data.remaining()
                    + " were given");
          }
          writeFully(out, data);
        }
        out.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
  }

  /** The header as serde_json writes it (compact), padded with spaces to 8-byte alignment. */
  static byte[] header(Path file, List<Source> ordered, Map<String, String> metadata)
      throws SafetensorsException {
    StringBuilder json = new StringBuilder("{");
    boolean first = true;
    if (metadata != null) {
      json.append("\"__metadata__\":{");
      boolean firstMeta = true;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (!firstMeta) {
          json.append(',');
        }
        appendString(json, e.getKey()).append(':');
        appendString(json, e.getValue());
        firstMeta = false;
      }
      json.append('}');
      first = false;
    }
    long offset = 0;
    for (Source s : ordered) {
      if (s.name.equals("__metadata__")) {
        throw new SafetensorsException(file, "'__metadata__' is reserved and cannot name a tensor");
      }
      if (!first) {
        json.append(',');
      }
      first = false;
      appendString(json, s.name)
          .append(":{\"dtype\":\"")
          .append(s.dtype.name())
          .append("\",\"shape\":[");
      for (int i = 0; i < s.shape.length; i++) {
        json.append(i == 0 ? "" : ",").append(s.shape[i]);
      }
      json.append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + s.byteLength)
          .append("]}");
      offset += s.byteLength;
    }
    json.append('}');
    byte[] bytes = utf8(json.toString());
    int padded = (bytes.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(bytes, padded);
    Arrays.fill(out, bytes.length, padded, (byte) ' ');
    return out;
  }

  private static StringBuilder appendString(StringBuilder json, String s) {
    json.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\b' -> json.append("\\b");
        case '\f' -> json.append("\\f");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    return json.append('"');
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void writeFully(FileChannel out, ByteBuffer data) throws IOException {
    while (data.hasRemaining()) {
      out.write(data);
    }
  }
}
