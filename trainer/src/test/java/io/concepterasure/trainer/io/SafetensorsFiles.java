package io.concepterasure.trainer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, to test the reader on input no writer would produce. */
final class SafetensorsFiles {
  private SafetensorsFiles() {}

  /** A file with the given header text (unpadded) followed by {@code data}. */
  static Path withHeader(Path file, String header, byte[] data) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out =
        ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length).put(json).put(data);
    Files.write(file, out.array());
    return file;
  }

  static ByteBuffer floats(float... values) {
    ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      out.putFloat(v);
    }
    return out.flip();
  }

  static ByteBuffer shorts(short... values) {
    ByteBuffer out = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      out.putShort(v);
    }
    return out.flip();
  }

  static ByteBuffer longs(long... values) {
    ByteBuffer out = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      out.putLong(v);
    }
    return out.flip();
  }
}
