package io.concepterasure.trainer.storage;

import java.io.IOException;

/**
 * Object storage failed. {@link #invalidInput()} tells a failure that retrying cannot fix (no such
 * bucket, access denied, a refused location) from one that may pass next time (network, 5xx), so
 * the trainer can exit with the matching code and the Job is retried only when that can help.
 */
public class StorageException extends IOException {
  private final boolean invalidInput;

  public StorageException(String message, boolean invalidInput) {
    super(message);
    this.invalidInput = invalidInput;
  }

  public StorageException(String message, boolean invalidInput, Throwable cause) {
    super(message, cause);
    this.invalidInput = invalidInput;
  }

  public boolean invalidInput() {
    return invalidInput;
  }
}
