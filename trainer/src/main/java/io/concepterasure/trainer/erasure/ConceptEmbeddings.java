package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The frozen text encoder's embeddings for one (concept, alternative) pair, computed once per run:
 * c_e, c_a (the empty prompt's when no alternative was given), ∅, and the optional preservation
 * prompts c_p. Each is [1, L, D].
 */
public record ConceptEmbeddings(
    String erasePrompt,
    String alternativePrompt,
    NDArray erase,
    NDArray alternative,
    NDArray empty,
    List<NDArray> preserve) {

  public ConceptEmbeddings {
    preserve = List.copyOf(preserve);
  }
}
