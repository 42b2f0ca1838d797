package io.concepterasure.trainer.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) to and from binary32, exact and round-to-nearest-even
 * like PyTorch's {@code tensor.to()}. Java 17 has no {@code Float.float16ToFloat} (Java 20), and
 * converting in Java keeps DJL's native BF16 path (which aborts the JVM) out of the way.
 *
 * <p>The bulk methods work on primitive arrays in blocks, so a 150 MB tensor is converted without
 * boxing and without a second full-size buffer.
 */
public final class HalfPrecision {
  private static final int BLOCK = 8192;

  /** Every F16 bit pattern's value: 256 KiB, and a table lookup beats the bit arithmetic. */
  private static final float[] F16_TO_F32 = new float[1 << 16];

  static {
    for (int i = 0; i < F16_TO_F32.length; i++) {
      F16_TO_F32[i] = decodeF16(i);
    }
  }

  private HalfPrecision() {}

  public static float f16ToFloat(short bits) {
    return F16_TO_F32[bits & 0xffff];
  }

  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Rounds to the nearest F16, ties to even; overflow gives infinity, NaN stays NaN. */
  public static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      // Keep NaN a NaN even when its payload lives only in the low 13 bits.
      return (short) (sign | 0x7c00 | (mant == 0 ? 0 : 0x200 | (mant >>> 13)));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      // Subnormal F16: the value counted in units of 2^-24 is (1.mant * 2^23) >> (14 - e).
      int shift = 14 - e;
      if (shift > 24) {
        return (short) sign;
      }
      int m = mant | 0x800000;
      int q = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int half = 1 << (shift - 1);
      if (rem > half || (rem == half && (q & 1) == 1)) {
        q++; // may carry into the smallest normal, which the bit layout makes right
      }
      return (short) (sign | q);
    }
    int h = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
      h++; // a carry out of the mantissa bumps the exponent, up to infinity
    }
    return (short) (sign | h);
  }

  /** Rounds to the nearest BF16, ties to even, as {@code torch.Tensor.bfloat16()} does. */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40); // quiet NaN
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /**
   * Converts {@code count} elements from {@code src} (little-endian, read from its position) into
   * {@code dst} (written in the byte order it has). Float types convert among each other; any other
   * pair must be the same dtype.
   */
  static void convert(
      ByteBuffer src, SafetensorsDtype from, ByteBuffer dst, SafetensorsDtype to, long count) {
    ByteBuffer in = src.slice().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = dst.slice().order(dst.order());
    if (from == to) {
      long bytes = count * from.byteSize();
      out.put(in.limit((int) bytes));
      return;
    }
    float[] block = new float[(int) Math.min(BLOCK, count)];
    short[] halves = new short[block.length];
    FloatBuffer outFloats = to == SafetensorsDtype.F32 ? out.asFloatBuffer() : null;
    ShortBuffer outShorts = to == SafetensorsDtype.F32 ? null : out.asShortBuffer();
    ShortBuffer inShorts = from == SafetensorsDtype.F32 ? null : in.asShortBuffer();
    FloatBuffer inFloats = from == SafetensorsDtype.F32 ? in.asFloatBuffer() : null;
    for (long done = 0; done < count; ) {
      int n = (int) Math.min(block.length, count - done);
      switch (from) {
        case F32:
          inFloats.get(block, 0, n);
          break;
        case F16:
          inShorts.get(halves, 0, n);
          for (int i = 0; i < n; i++) {
            block[i] = F16_TO_F32[halves[i] & 0xffff];
          }
          break;
        case BF16:
          inShorts.get(halves, 0, n);
          for (int i = 0; i < n; i++) {
            block[i] = Float.intBitsToFloat((halves[i] & 0xffff) << 16);
          }
          break;
        default:
          throw new IllegalArgumentException("cannot convert " + from + " to " + to);
      }
      switch (to) {
        case F32:
          outFloats.put(block, 0, n);
          break;
        case F16:
          for (int i = 0; i < n; i++) {
            halves[i] = floatToF16(block[i]);
          }
          outShorts.put(halves, 0, n);
          break;
        case BF16:
          for (int i = 0; i < n; i++) {
            halves[i] = floatToBf16(block[i]);
          }
          outShorts.put(halves, 0, n);
          break;
        default:
          throw new IllegalArgumentException("cannot convert " + from + " to " + to);
      }
      done += n;
    }
  }

  /** True when {@link #convert} handles {@code from} to {@code to}. */
  static boolean canConvert(SafetensorsDtype from, SafetensorsDtype to) {
    return from == to || (isHalfOrSingle(from) && isHalfOrSingle(to));
  }

  private static boolean isHalfOrSingle(SafetensorsDtype d) {
    return d == SafetensorsDtype.F32 || d == SafetensorsDtype.F16 || d == SafetensorsDtype.BF16;
  }

  private static float decodeF16(int bits) {
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // Subnormal (or zero): mant * 2^-24, exact in binary32.
      float magnitude = mant * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
