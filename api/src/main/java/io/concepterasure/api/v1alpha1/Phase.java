package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The lifecycle of a ConceptErasure, computed from its Job and pod; shown as a printer column. */
public enum Phase {
  @JsonProperty("Pending")
  PENDING(false),
  @JsonProperty("Running")
  RUNNING(false),
  @JsonProperty("Succeeded")
  SUCCEEDED(true),
  @JsonProperty("Failed")
  FAILED(true),
  @JsonProperty("Suspended")
  SUSPENDED(false);

  private final boolean terminal;

  Phase(boolean terminal) {
    this.terminal = terminal;
  }

  /** A terminal phase never changes again: the operator stops following the Job. */
  public boolean isTerminal() {
    return terminal;
  }
}
