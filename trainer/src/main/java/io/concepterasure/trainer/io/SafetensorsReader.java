package io.concepterasure.trainer.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file, or a sharded checkpoint through its {@code *.safetensors.index.json},
 * tensor by tensor with positional reads of at most a chunk, so that files over 2 GiB (a
 * full-precision SD UNet is 3.4 GB) work and only the tensor being read is copied. DJL's own reader
 * loads the whole file into one array and stops at 2 GiB. Not memory-mapped: Java 17 cannot unmap,
 * so mapped pages stayed in the process until a garbage collection that may never come (SD 1.5's
 * UNet loaded to 7.3 GB resident instead of 3.4 GB).
 *
 * <p>{@link #open} checks the whole header against the file before anything is mapped: every
 * declared size is compared with the file's real size first, so a corrupt or hostile file fails
 * with a {@link SafetensorsException} naming the file and the problem, never with an
 * OutOfMemoryError.
 *
 * <p>Not thread-safe: one reader per loading thread.
 */
public final class SafetensorsReader implements Closeable {
  /** The limit of the reference implementation: a longer header is refused there too. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  static final long DEFAULT_CHUNK_BYTES = 1L << 30;
  private static final String METADATA_KEY = "__metadata__";

  /**
   * Sharded indexes are {@code *.safetensors.index.json}, or {@code *.safetensors.index.fp16.json}
   * for a variant.
   */
  private static final String INDEX_SUFFIX = ".json";

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /**
   * One tensor's header entry. {@code begin} and {@code end} are offsets into the data section,
   * which starts after the header.
   */
  public record TensorInfo(String name, SafetensorsDtype dtype, Shape shape, long begin, long end) {
    public long byteLength() {
      return end - begin;
    }
  }

  private record Located(Shard shard, TensorInfo info) {}

  private final Path path;
  private final List<Shard> shards;
  private final Map<String, Located> tensors;
  private final Map<String, String> metadata;
  private ByteBuffer staging;
  private ByteBuffer reading;

  private SafetensorsReader(
      Path path, List<Shard> shards, Map<String, Located> tensors, Map<String, String> metadata) {
    this.path = path;
    this.shards = shards;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /**
   * Opens a {@code .safetensors} file, or a sharded checkpoint when {@code path} is its JSON index
   * (the {@code weight_map} names shard files in the same folder).
   */
  public static SafetensorsReader open(Path path) throws IOException {
    return open(path, DEFAULT_CHUNK_BYTES);
  }

  /**
   * As {@link #open(Path)}, reading at most {@code chunkBytes} at a time (tests use small chunks).
   */
  static SafetensorsReader open(Path path, long chunkBytes) throws IOException {
    if (chunkBytes <= 0 || chunkBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("chunk size must be in (0, 2 GiB): " + chunkBytes);
    }
    if (path.getFileName() != null && path.getFileName().toString().endsWith(INDEX_SUFFIX)) {
      return openIndex(path, chunkBytes);
    }
    Shard shard = Shard.open(path, chunkBytes);
    Map<String, Located> tensors = new LinkedHashMap<>();
    shard.tensors.forEach((name, info) -> tensors.put(name, new Located(shard, info)));
    return new SafetensorsReader(path, List.of(shard), tensors, shard.metadata);
  }

  private static SafetensorsReader openIndex(Path index, long chunkBytes) throws IOException {
    JsonNode root = parseJson(index, readSmallFile(index));
    JsonNode weightMap = root.get("weight_map");
    if (weightMap == null || !weightMap.isObject()) {
      throw new SafetensorsException(
          index, "sharded checkpoint index has no \"weight_map\" object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    JsonNode meta = root.get("metadata");
    if (meta != null && meta.isObject()) {
      meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
    }
    Map<String, Shard> byFile = new LinkedHashMap<>();
    Map<String, Located> tensors = new LinkedHashMap<>();
    try {
      for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String file = e.getValue().asText();
        if (!e.getValue().isTextual() || !isPlainFileName(file)) {
          throw new SafetensorsException(
              index,
              "weight_map entry '"
                  + e.getKey()
                  + "' names "
                  + e.getValue()
                  + ", not a file in the same folder");
        }
        Shard shard = byFile.get(file);
        if (shard == null) {
          shard = Shard.open(index.resolveSibling(file), chunkBytes);
          byFile.put(file, shard);
        }
        TensorInfo info = shard.tensors.get(e.getKey());
        if (info == null) {
          throw new SafetensorsException(
              index,
              "weight_map puts tensor '"
                  + e.getKey()
                  + "' in "
                  + file
                  + ", which has no such tensor");
        }
        tensors.put(e.getKey(), new Located(shard, info));
      }
      for (Shard shard : byFile.values()) {
        for (String name : shard.tensors.keySet()) {
          Located listed = tensors.get(name);
          if (listed == null || listed.shard != shard) {
            throw new SafetensorsException(
                index,
                "shard "
                    + shard.file.getFileName()
                    + " has tensor '"
                    + name
                    + "', which weight_map does not assign to it");
          }
        }
      }
    } catch (IOException | RuntimeException ex) {
      for (Shard shard : byFile.values()) {
        shard.close();
      }
      throw ex;
    }
    return new SafetensorsReader(
        index, List.copyOf(byFile.values()), tensors, Collections.unmodifiableMap(metadata));
  }

  /** The file (or index) this reader was opened on; errors name it. */
  public Path path() {
    return path;
  }

  /** Tensor names in header order (shard by shard for a sharded checkpoint). */
  public Set<String> names() {
    return Collections.unmodifiableSet(tensors.keySet());
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  public TensorInfo info(String name) throws SafetensorsException {
    return locate(name).info;
  }

  /** The header's {@code __metadata__} (or a sharded index's {@code metadata}); empty if none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Reads a tensor in its stored dtype. */
  public NDArray read(String name, NDManager manager) throws IOException {
    return read(name, manager, null);
  }

  /**
   * Reads one tensor into a new array owned by {@code manager}, converting F16 / BF16 / F32 to
   * {@code target} (FLOAT32 or FLOAT16) in Java; {@code null} keeps the stored dtype.
   */
  public NDArray read(String name, NDManager manager, DataType target) throws IOException {
    Located located = locate(name);
    TensorInfo info = located.info;
    SafetensorsDtype from = info.dtype();
    SafetensorsDtype to = target == null ? from : SafetensorsDtype.of(target);
    if (to == null || to.dataType() == null || to == SafetensorsDtype.BF16) {
      // DJL's PyTorch BF16 path aborts the JVM, so BF16 is only ever a storage type here.
      throw new SafetensorsException(
          located.shard.file,
          "tensor '"
              + name
              + "' is "
              + from
              + " and cannot be read as "
              + (target == null ? from : target)
              + "; read it as FLOAT32 or FLOAT16");
    }
    if (!HalfPrecision.canConvert(from, to)) {
      throw new SafetensorsException(
          located.shard.file,
          "tensor '" + name + "' is " + from + " and cannot be converted to " + to);
    }
    long count = info.shape().size();
    long outBytes = count * to.byteSize();
    if (outBytes > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(
          located.shard.file,
          "tensor '"
              + name
              + "' needs "
              + outBytes
              + " bytes as "
              + to
              + "; tensors over 2 GiB are not supported");
    }
    ByteBuffer stage = staging((int) outBytes);
    if (from == to && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      located.shard.read(info, stage);
    } else {
      ByteBuffer source = reading(Math.toIntExact(info.byteLength()));
      located.shard.read(info, source);
      HalfPrecision.convert(source, from, stage, to, count);
    }
    // The PyTorch engine wraps a direct buffer without copying it; the clone gives the tensor
    // memory of its own, so the staging buffer can be reused for the next tensor.
    try (NDArray wrapped = manager.create(stage, info.shape(), to.dataType())) {
      return wrapped.duplicate();
    }
  }

  @Override
  public void close() throws IOException {
    staging = null;
    reading = null;
    IOException first = null;
    for (Shard shard : shards) {
      try {
        shard.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private Located locate(String name) throws SafetensorsException {
    Located located = tensors.get(name);
    if (located == null) {
      throw new SafetensorsException(path, "has no tensor '" + name + "'");
    }
    return located;
  }

  private ByteBuffer staging(int bytes) {
    if (staging == null || staging.capacity() < bytes) {
      staging = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 20)).order(ByteOrder.nativeOrder());
    }
    return staging.duplicate().clear().limit(bytes).slice().order(ByteOrder.nativeOrder());
  }

  private ByteBuffer reading(int bytes) {
    if (reading == null || reading.capacity() < bytes) {
      reading = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 20));
    }
    return reading.duplicate().clear().limit(bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static boolean isPlainFileName(String name) {
    return !name.isEmpty()
        && !name.contains("/")
        && !name.contains("\\")
        && !name.equals(".")
        && !name.equals("..");
  }

  private static byte[] readSmallFile(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > MAX_HEADER_BYTES) {
        throw new SafetensorsException(file, "index is " + size + " bytes, over the 100 MB limit");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // keep reading
      }
      return buf.array();
    } catch (NoSuchFileException e) {
      throw new SafetensorsException(file, "no such file", e);
    }
  }

  private static JsonNode parseJson(Path file, byte[] bytes) throws SafetensorsException {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JacksonException e) {
      throw new SafetensorsException(
          file, "header is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new SafetensorsException(file, "header cannot be parsed: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new SafetensorsException(
          file, "header is not a JSON object but " + (root == null ? "empty" : root.getNodeType()));
    }
    return root;
  }

  /** One safetensors file: its parsed header and the channel its data section is read from. */
  private static final class Shard implements Closeable {
    final Path file;
    final FileChannel channel;
    final long dataStart;
    final long dataBytes;
    final long chunkBytes;
    final Map<String, TensorInfo> tensors;
    final Map<String, String> metadata;

    private Shard(
        Path file,
        FileChannel channel,
        long dataStart,
        long dataBytes,
        long chunkBytes,
        Map<String, TensorInfo> tensors,
        Map<String, String> metadata) {
      this.file = file;
      this.channel = channel;
      this.dataStart = dataStart;
      this.dataBytes = dataBytes;
      this.chunkBytes = chunkBytes;
      this.tensors = tensors;
      this.metadata = metadata;
    }

    static Shard open(Path file, long chunkBytes) throws IOException {
      FileChannel channel;
      try {
        channel = FileChannel.open(file, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        throw new SafetensorsException(file, "no such file", e);
      }
      try {
        return parse(file, channel, chunkBytes);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }

    private static Shard parse(Path file, FileChannel channel, long chunkBytes) throws IOException {
      long size = channel.size();
      if (size < 8) {
        throw new SafetensorsException(
            file,
            "file is " + size + " bytes, too short for the 8-byte header length (truncated?)");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.getLong(0);
      // Compared unsigned and against the real size before anything of that size is allocated.
      if (Long.compareUnsigned(headerLength, size - 8) > 0) {
        throw new SafetensorsException(
            file,
            "header length "
                + Long.toUnsignedString(headerLength)
                + " is larger than the file ("
                + size
                + " bytes; truncated or not a safetensors file)");
      }
      if (headerLength > MAX_HEADER_BYTES) {
        throw new SafetensorsException(
            file,
            "header length " + headerLength + " is over the " + MAX_HEADER_BYTES + "-byte limit");
      }
      if (headerLength < 2) {
        throw new SafetensorsException(
            file, "header length " + headerLength + " is too short for a JSON object");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      readFully(channel, header, 8);
      JsonNode root = parseJson(file, header.array());

      long dataStart = 8 + headerLength;
      long dataBytes = size - dataStart;
      Map<String, String> metadata = Map.of();
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals(METADATA_KEY)) {
          metadata = parseMetadata(file, e.getValue());
        } else {
          tensors.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataBytes));
        }
      }
      checkLayout(file, tensors, dataBytes);
      return new Shard(
          file,
          channel,
          dataStart,
          dataBytes,
          chunkBytes,
          Collections.unmodifiableMap(tensors),
          metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node)
        throws SafetensorsException {
      if (!node.isObject()) {
        throw new SafetensorsException(
            file, "__metadata__ is not a JSON object but " + node.getNodeType());
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          throw new SafetensorsException(
              file,
              "__metadata__ value of '"
                  + e.getKey()
                  + "' is "
                  + e.getValue().getNodeType()
                  + ", but the format allows only strings");
        }
        out.put(e.getKey(), e.getValue().textValue());
      }
      return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node, long dataBytes)
        throws SafetensorsException {
      String where = "tensor '" + name + "'";
      if (!node.isObject()) {
        throw new SafetensorsException(
            file, where + " is described by " + node.getNodeType() + ", not an object");
      }
      JsonNode dtypeNode = node.get("dtype");
      if (dtypeNode == null || !dtypeNode.isTextual()) {
        throw new SafetensorsException(file, where + " has no \"dtype\" string");
      }
      SafetensorsDtype dtype = SafetensorsDtype.fromHeader(dtypeNode.textValue());
      if (dtype == null) {
        throw new SafetensorsException(
            file,
            where
                + " has unknown dtype \""
                + dtypeNode.textValue()
                + "\"; known: "
                + Arrays.toString(SafetensorsDtype.values()));
      }
      long[] dims = naturals(file, where, "shape", node.get("shape"), -1);
      long[] offsets = naturals(file, where, "data_offsets", node.get("data_offsets"), 2);
      long begin = offsets[0];
      long end = offsets[1];
      if (end < begin) {
        throw new SafetensorsException(
            file,
            where + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
      }
      if (end > dataBytes) {
        throw new SafetensorsException(
            file,
            where
                + " has data_offsets ["
                + begin
                + ", "
                + end
                + "] past the end of the data ("
                + dataBytes
                + " bytes after the header; truncated?)");
      }
      long bytes;
      try {
        long count = 1;
        for (long d : dims) {
          count = Math.multiplyExact(count, d);
        }
        bytes = Math.multiplyExact(count, (long) dtype.byteSize());
      } catch (ArithmeticException e) {
        throw new SafetensorsException(
            file, where + " has shape " + Arrays.toString(dims) + ", too large", e);
      }
      if (bytes != end - begin) {
        throw new SafetensorsException(
            file,
            where
                + " of shape "
                + Arrays.toString(dims)
                + " and dtype "
                + dtype
                + " needs "
                + bytes
                + " bytes but its data_offsets ["
                + begin
                + ", "
                + end
                + "] hold "
                + (end - begin));
      }
      return new TensorInfo(name, dtype, new Shape(dims), begin, end);
    }

    private static long[] naturals(Path file, String where, String field, JsonNode node, int length)
        throws SafetensorsException {
      if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
        throw new SafetensorsException(
            file,
            where
                + " needs \""
                + field
                + "\" as an array of "
                + (length >= 0 ? length + " " : "")
                + "non-negative integers, found "
                + node);
      }
      long[] out = new long[node.size()];
      for (int i = 0; i < out.length; i++) {
        JsonNode v = node.get(i);
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
          throw new SafetensorsException(
              file,
              where + " has \"" + field + "\" " + node + "; entries must be non-negative integers");
        }
        out[i] = v.longValue();
      }
      return out;
    }

    /** Tensors must tile the data section exactly: no overlap, no gap, nothing after the last. */
    private static void checkLayout(Path file, Map<String, TensorInfo> tensors, long dataBytes)
        throws SafetensorsException {
      List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
      byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
      long expected = 0;
      TensorInfo previous = null;
      for (TensorInfo t : byOffset) {
        if (t.begin() < expected) {
          throw new SafetensorsException(
              file,
              "tensor '"
                  + t.name()
                  + "' data_offsets ["
                  + t.begin()
                  + ", "
                  + t.end()
                  + "] overlap tensor '"
                  + previous.name()
                  + "' ["
                  + previous.begin()
                  + ", "
                  + previous.end()
                  + "]");
        }
        if (t.begin() > expected) {
          throw new SafetensorsException(
              file,
              "tensor '"
                  + t.name()
                  + "' starts at "
                  + t.begin()
                  + ", leaving a gap of "
                  + (t.begin() - expected)
                  + " bytes after "
                  + (previous == null ? "the header" : "tensor '" + previous.name() + "'"));
        }
        expected = t.end();
        previous = t;
      }
      if (expected != dataBytes) {
        throw new SafetensorsException(
            file,
            "tensors cover "
                + expected
                + " bytes but the data section has "
                + dataBytes
                + " ("
                + (dataBytes - expected)
                + " trailing bytes)");
      }
    }

    /**
     * Reads the tensor's bytes (little-endian) into {@code dst} from its position on, in reads of
     * at most {@code chunkBytes}; {@code dst}'s own position is left as it was.
     */
    void read(TensorInfo t, ByteBuffer dst) throws IOException {
      int length = Math.toIntExact(t.byteLength());
      ByteBuffer target = dst.duplicate();
      target.limit(target.position() + length);
      for (long done = 0; done < length; ) {
        int n = (int) Math.min(chunkBytes, length - done);
        ByteBuffer piece = target.duplicate();
        piece
            .position((int) (target.position() + done))
            .limit((int) (target.position() + done + n));
        readFully(channel, piece, dataStart + t.begin() + done);
        done += n;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position)
        throws IOException {
      long at = position;
      while (buf.hasRemaining()) {
        int n = channel.read(buf, at);
        if (n < 0) {
          throw new IOException("unexpected end of file");
        }
        at += n;
      }
    }
  }
}
