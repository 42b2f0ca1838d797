package io.concepterasure.trainer.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file (or a module's state dict) that cannot be read or written as asked. The
 * message always starts with the file, then says what was expected and what was found, so that a
 * user can tell a corrupt download from a model of the wrong architecture.
 */
public class SafetensorsException extends IOException {
  private final transient Path file;

  public SafetensorsException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public SafetensorsException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file the problem was found in. */
  public Path file() {
    return file;
  }
}
