package io.concepterasure.trainer.io;

import ai.djl.ndarray.types.DataType;

/**
 * The element types of the safetensors format, declared in the order of the Rust {@code
 * safetensors::Dtype} enum: that order decides how Python's writer lays tensors out (widest first),
 * and {@link SafetensorsWriter} follows it to write the same bytes.
 */
public enum SafetensorsDtype {
  BOOL(1, DataType.BOOLEAN),
  U8(1, DataType.UINT8),
  I8(1, DataType.INT8),
  F8_E5M2(1, null),
  F8_E4M3(1, null),
  I16(2, DataType.INT16),
  U16(2, DataType.UINT16),
  F16(2, DataType.FLOAT16),
  BF16(2, DataType.BFLOAT16),
  I32(4, DataType.INT32),
  U32(4, DataType.UINT32),
  F32(4, DataType.FLOAT32),
  F64(8, DataType.FLOAT64),
  I64(8, DataType.INT64),
  U64(8, DataType.UINT64);

  private final int byteSize;
  private final DataType dataType;

  SafetensorsDtype(int byteSize, DataType dataType) {
    this.byteSize = byteSize;
    this.dataType = dataType;
  }

  public int byteSize() {
    return byteSize;
  }

  /** The DJL type holding this dtype unchanged, or {@code null} when DJL has none (FP8). */
  public DataType dataType() {
    return dataType;
  }

  /**
   * The dtype named {@code name} in a header, or {@code null} when the format has no such dtype.
   */
  public static SafetensorsDtype fromHeader(String name) {
    for (SafetensorsDtype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** The dtype storing DJL's {@code type}, or {@code null} when safetensors cannot store it. */
  public static SafetensorsDtype of(DataType type) {
    for (SafetensorsDtype d : values()) {
      if (d.dataType == type) {
        return d;
      }
    }
    return null;
  }
}
