package io.concepterasure.trainer.storage;

import java.util.Locale;

/** Sizes for messages: "4.27 GB (4,265,380,512 bytes)", decimal units as disks are sold. */
public final class ByteSizes {
  private static final String[] UNITS = {"bytes", "kB", "MB", "GB", "TB", "PB"};

  private ByteSizes() {}

  public static String describe(long bytes) {
    String exact = String.format(Locale.ROOT, "%,d bytes", bytes);
    if (bytes < 1000) {
      return exact;
    }
    double value = bytes;
    int unit = 0;
    while (value >= 1000 && unit < UNITS.length - 1) {
      value /= 1000;
      unit++;
    }
    return String.format(Locale.ROOT, "%.2f %s (%s)", value, UNITS[unit], exact);
  }
}
