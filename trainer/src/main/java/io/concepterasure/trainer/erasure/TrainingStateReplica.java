package io.concepterasure.trainer.erasure;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where the files of a run's training state folder are copied as they are saved, so that a pod on
 * another node can resume from them: the scratch volume of an {@code s3://} output dies with its
 * pod ({@code RequestStorage} keeps the copies under the output location).
 */
public interface TrainingStateReplica {
  /** A {@code pvc://} or local output: the state folder itself outlives the pod. */
  TrainingStateReplica NONE =
      new TrainingStateReplica() {
        @Override
        public void saved(Path file) {}

        @Override
        public void cleared() {}
      };

  /** {@code file}, in the state folder, was written completely; copy it. */
  void saved(Path file) throws IOException;

  /** The state folder was emptied (a run starting over); remove the copies. */
  void cleared() throws IOException;
}
