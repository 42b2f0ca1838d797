package io.concepterasure.trainer.erasure;

/** The request cannot be run as given; retrying it will not help (exit code 2). */
public final class InvalidRequestException extends RuntimeException {
  public InvalidRequestException(String message) {
    super(message);
  }

  public InvalidRequestException(String message, Throwable cause) {
    super(message, cause);
  }
}
