package io.concepterasure.api.v1alpha1;

/** The CEL transition rule message shared by every immutable spec field. */
final class Immutable {
  // An erasure request is a governance record: what was asked must stay what was done.
  static final String MESSAGE =
      "spec is immutable once created (only spec.suspend may change): "
          + "an erasure request is a record; create a new ConceptErasure instead";

  private Immutable() {}
}
