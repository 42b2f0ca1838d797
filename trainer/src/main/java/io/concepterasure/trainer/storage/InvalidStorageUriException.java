package io.concepterasure.trainer.storage;

/** A storage location that cannot be parsed or is not supported; the message quotes it. */
public class InvalidStorageUriException extends IllegalArgumentException {
  public InvalidStorageUriException(String uri, String problem) {
    super("'" + uri + "' " + problem);
  }
}
