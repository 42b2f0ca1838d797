package io.concepterasure.trainer.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident size of this process from {@code /proc/self/status}: {@code VmRSS} now and {@code
 * VmHWM}, its peak, both counting the JVM heap and the native tensors alike (what {@code ru_maxrss}
 * reports on the Python side).
 */
public record ProcessMemory(double rssMb, double peakRssMb) {
  private static final Path STATUS = Path.of("/proc/self/status");

  public static ProcessMemory read() {
    try {
      double rss = Double.NaN;
      double hwm = Double.NaN;
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          rss = kilobytes(line) / 1024.0;
        } else if (line.startsWith("VmHWM:")) {
          hwm = kilobytes(line) / 1024.0;
        }
      }
      if (Double.isNaN(rss) || Double.isNaN(hwm)) {
        throw new IllegalStateException(STATUS + " has no VmRSS/VmHWM line");
      }
      return new ProcessMemory(rss, hwm);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read the resident size from " + STATUS + " (Linux only): " + e, e);
    }
  }

  private static long kilobytes(String line) {
    // "VmRSS:	  123456 kB"
    String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
    return Long.parseLong(parts[0]);
  }
}
