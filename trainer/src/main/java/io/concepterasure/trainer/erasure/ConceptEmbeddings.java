package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;

/**
 * The frozen text encoder's embeddings for one (concept, alternative) pair, computed once per run:
 * c_e, c_a (the alternative, a preset anchor, or the empty prompt's when there is neither: {@link
 * AnchorPresets}) and ∅. Each is [1, L, D].
 */
public record ConceptEmbeddings(
    String erasePrompt,
    String alternativePrompt,
    NDArray erase,
    NDArray alternative,
    NDArray empty) {}
