package io.concepterasure.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Compares two safetensors files tensor by tensor (the format: an 8-byte little-endian header
 * length, a JSON header of name → dtype, shape, data offsets, then the data). The operator's tests
 * have no tensor library; this reads F32 only, which is what the trainer writes.
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Safetensors() {}

  /** The largest |a - b| over all elements; the two files must hold the same names and shapes. */
  public static double maxAbsDifference(byte[] a, byte[] b) {
    JsonNode headerA = header(a);
    JsonNode headerB = header(b);
    double max = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = headerA.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> tensor = it.next();
      if (tensor.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode other = headerB.get(tensor.getKey());
      if (other == null || !other.get("shape").equals(tensor.getValue().get("shape"))) {
        throw new IllegalArgumentException(
            "tensor " + tensor.getKey() + " differs in name or shape");
      }
      if (!"F32".equals(tensor.getValue().get("dtype").asText())
          || !"F32".equals(other.get("dtype").asText())) {
        throw new IllegalArgumentException("tensor " + tensor.getKey() + " is not F32");
      }
      FloatView x = new FloatView(a, tensor.getValue());
      FloatView y = new FloatView(b, other);
      for (int i = 0; i < x.length; i++) {
        max = Math.max(max, Math.abs(x.get(i) - y.get(i)));
      }
    }
    if (headerA.size() != headerB.size()) {
      throw new IllegalArgumentException("the files hold different tensors");
    }
    return max;
  }

  private static JsonNode header(byte[] file) {
    long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    try {
      return JSON.readTree(new String(file, 8, (int) length, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("not a safetensors file", e);
    }
  }

  private static final class FloatView {
    final ByteBuffer data;
    final int length;

    FloatView(byte[] file, JsonNode tensor) {
      long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      int start = (int) (8 + headerLength + tensor.get("data_offsets").get(0).asLong());
      int end = (int) (8 + headerLength + tensor.get("data_offsets").get(1).asLong());
      data = ByteBuffer.wrap(file, start, end - start).slice().order(ByteOrder.LITTLE_ENDIAN);
      length = (end - start) / 4;
    }

    float get(int i) {
      return data.getFloat(i * 4);
    }
  }
}
