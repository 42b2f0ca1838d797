package io.concepterasure.operator.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code key=value,key=value} setting, read as a map: one environment variable holds it, where a
 * map property would need a variable per key with its dots and slashes mangled.
 */
public final class KeyValueList {
  private KeyValueList() {}

  /** The pairs, in order; an entry without '=' or with an empty key is refused, naming it. */
  public static Map<String, String> parse(String setting, Optional<String> value) {
    Map<String, String> pairs = new LinkedHashMap<>();
    if (value.isEmpty() || value.get().isBlank()) {
      return pairs;
    }
    for (String entry : value.get().split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0 || entry.substring(0, eq).isBlank()) {
        throw new IllegalArgumentException(setting + ": '" + entry.strip() + "' is not key=value");
      }
      pairs.put(entry.substring(0, eq).strip(), entry.substring(eq + 1).strip());
    }
    return pairs;
  }
}
