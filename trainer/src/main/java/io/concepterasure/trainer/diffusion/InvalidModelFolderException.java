package io.concepterasure.trainer.diffusion;

import java.io.IOException;
import java.nio.file.Path;

/** A folder that is not the diffusers model it was given as; the message names what is missing. */
public class InvalidModelFolderException extends IOException {
  private final transient Path folder;

  public InvalidModelFolderException(Path folder, String problem) {
    super(folder + ": " + problem);
    this.folder = folder;
  }

  public Path folder() {
    return folder;
  }
}
