package io.concepterasure.trainer.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks the conversions against references written independently: binary16 / bfloat16 decoded with
 * double arithmetic from the format's definition, and float-to-half rounding by searching the
 * nearest of all 63,488 finite halves.
 */
class HalfPrecisionTest {

  /** value = (-1)^s * 2^(e - bias) * (1 + m / 2^mbits), subnormal when e == 0. */
  private static double reference(int bits, int expBits, int mantBits) {
    int bias = (1 << (expBits - 1)) - 1;
    int sign = (bits >>> (expBits + mantBits)) & 1;
    int exp = (bits >>> mantBits) & ((1 << expBits) - 1);
    int mant = bits & ((1 << mantBits) - 1);
    double magnitude;
    if (exp == (1 << expBits) - 1) {
      magnitude = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else if (exp == 0) {
      magnitude = Math.scalb((double) mant / (1 << mantBits), 1 - bias);
    } else {
      magnitude = Math.scalb(1 + (double) mant / (1 << mantBits), exp - bias);
    }
    return sign == 1 ? -magnitude : magnitude;
  }

  @Test
  void everyF16PatternDecodesToItsDefinedValue() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      double expected = reference(bits, 5, 10);
      float actual = HalfPrecision.f16ToFloat((short) bits);
      if (Double.isNaN(expected)) {
        assertThat(actual).as("0x%04x", bits).isNaN();
      } else {
        assertThat(Float.floatToRawIntBits(actual))
            .as("0x%04x", bits)
            .isEqualTo(Float.floatToRawIntBits((float) expected));
      }
    }
  }

  @Test
  void knownF16BitPatterns() {
    assertThat(HalfPrecision.f16ToFloat((short) 0x3c00)).isEqualTo(1.0f);
    assertThat(HalfPrecision.f16ToFloat((short) 0xc000)).isEqualTo(-2.0f);
    assertThat(HalfPrecision.f16ToFloat((short) 0x7bff)).isEqualTo(65504.0f);
    assertThat(HalfPrecision.f16ToFloat((short) 0x0001)).isEqualTo(5.9604645E-8f);
    assertThat(HalfPrecision.f16ToFloat((short) 0x0400)).isEqualTo(6.1035156E-5f);
    assertThat(HalfPrecision.f16ToFloat((short) 0x3555)).isEqualTo(0.33325195f);
    assertThat(HalfPrecision.f16ToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Float.floatToRawIntBits(HalfPrecision.f16ToFloat((short) 0x8000)))
        .isEqualTo(0x80000000);
    assertThat(HalfPrecision.floatToF16(1.0f)).isEqualTo((short) 0x3c00);
    assertThat(HalfPrecision.floatToF16(65520f)).isEqualTo((short) 0x7c00); // rounds up to infinity
    assertThat(HalfPrecision.floatToF16(65519f)).isEqualTo((short) 0x7bff);
    assertThat(HalfPrecision.floatToF16(1.0f / 3)).isEqualTo((short) 0x3555);
    assertThat(HalfPrecision.floatToF16(Float.NaN) & 0x7fff).isGreaterThan(0x7c00);
  }

  @Test
  void everyBf16PatternDecodesToItsDefinedValue() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      double expected = reference(bits, 8, 7);
      float actual = HalfPrecision.bf16ToFloat((short) bits);
      if (Double.isNaN(expected)) {
        assertThat(actual).as("0x%04x", bits).isNaN();
      } else {
        assertThat(Float.floatToRawIntBits(actual))
            .as("0x%04x", bits)
            .isEqualTo(Float.floatToRawIntBits((float) expected));
      }
    }
  }

  @Test
  void everyFiniteF16SurvivesARoundTrip() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0) {
        continue; // NaN payloads need not survive
      }
      assertThat(HalfPrecision.floatToF16(HalfPrecision.f16ToFloat((short) bits)) & 0xffff)
          .as("0x%04x", bits)
          .isEqualTo(bits);
    }
  }

  @Test
  void floatToF16RoundsToNearestEven() {
    // All non-negative finite halves, ascending by value, with their bit patterns.
    int count = 0x7c00;
    double[] values = new double[count];
    for (int bits = 0; bits < count; bits++) {
      values[bits] = reference(bits, 5, 10);
    }
    SplittableRandom random = new SplittableRandom(7);
    float[] samples = new float[200_000];
    for (int i = 0; i < samples.length; i++) {
      // Uniform exponents across and around the half range, including subnormal results.
      float f = (float) Math.scalb(1 + random.nextDouble(), random.nextInt(-30, 17));
      samples[i] = random.nextBoolean() ? f : -f;
    }
    // Exact midpoints between neighbours, where ties-to-even decides.
    float[] ties = new float[2000];
    for (int i = 0; i < ties.length; i++) {
      int b = random.nextInt(0, count - 1);
      ties[i] = (float) ((values[b] + values[b + 1]) / 2);
    }
    for (float f : concat(samples, ties)) {
      double a = Math.abs((double) f);
      int expected;
      int index = Arrays.binarySearch(values, a);
      if (index >= 0) {
        expected = index;
      } else {
        int above = -index - 1;
        if (above == count) {
          // Past the largest half: infinity once at or beyond max + half an ulp (2^15 * (2 -
          // 2^-11)).
          expected = a >= 65520 ? 0x7c00 : count - 1;
        } else {
          double up = values[above] - a;
          double down = a - values[above - 1];
          expected =
              up < down ? above : down < up ? above - 1 : (above % 2 == 0 ? above : above - 1);
        }
      }
      if (f < 0) {
        expected |= 0x8000;
      }
      assertThat(HalfPrecision.floatToF16(f) & 0xffff).as("%s", f).isEqualTo(expected);
    }
  }

  @Test
  void floatToBf16RoundsToNearestEven() {
    assertThat(HalfPrecision.floatToBf16(1.0f)).isEqualTo((short) 0x3f80);
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even 1.0.
    assertThat(HalfPrecision.floatToBf16(1.00390625f)).isEqualTo((short) 0x3f80);
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: goes up.
    assertThat(HalfPrecision.floatToBf16(1.01171875f)).isEqualTo((short) 0x3f82);
    assertThat(HalfPrecision.bf16ToFloat(HalfPrecision.floatToBf16(Float.NaN))).isNaN();
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
