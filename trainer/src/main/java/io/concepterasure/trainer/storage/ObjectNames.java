package io.concepterasure.trainer.storage;

/** Checks the relative object names that {@link ObjectStore} takes. */
final class ObjectNames {
  private ObjectNames() {}

  /**
   * {@code name} if it is "" or a '/'-separated relative name without '.', '..' or empty segments.
   */
  static String check(String name) {
    if (name == null) {
      throw new IllegalArgumentException("object name is null");
    }
    if (name.isEmpty()) {
      return name;
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException(
            "object name '" + name + "' must be relative, without empty, '.' or '..' segments");
      }
    }
    return name;
  }

  static String join(String parent, String child) {
    return parent.isEmpty() ? child : child.isEmpty() ? parent : parent + "/" + child;
  }
}
