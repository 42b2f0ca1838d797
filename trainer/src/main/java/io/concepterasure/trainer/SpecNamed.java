package io.concepterasure.trainer;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An enum constant as the ConceptErasure spec spells it (the CRD's enum values), with the one
 * lookup by that spelling that every such enum shares.
 */
public interface SpecNamed {
  String specName();

  /**
   * The constant of {@code type} spelled {@code name}.
   *
   * @param what the thing named, for the message ("unknown method 'x'; expected one of ...")
   * @throws IllegalArgumentException naming {@code name} and every spelling there is
   */
  static <E extends Enum<E> & SpecNamed> E parse(Class<E> type, String what, String name) {
    for (E e : type.getEnumConstants()) {
      if (e.specName().equals(name)) {
        return e;
      }
    }
    throw new IllegalArgumentException(
        "unknown " + what + " '" + name + "'; expected one of " + specNames(type));
  }

  /** Every spelling of {@code type}, comma-separated. */
  static <E extends Enum<E> & SpecNamed> String specNames(Class<E> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(SpecNamed::specName)
        .collect(Collectors.joining(", "));
  }
}
