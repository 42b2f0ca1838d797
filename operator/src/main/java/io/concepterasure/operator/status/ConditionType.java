package io.concepterasure.operator.status;

/** Condition types, each named after a state (kubeflow/trainer's convention). */
public enum ConditionType {
  RUNNING("Running", true),
  COMPLETE("Complete", true),
  FAILED("Failed", true),
  SUSPENDED("Suspended", true),
  /** Waiting for Kueue to admit the Job. */
  QUEUED("Queued", false),
  /**
   * The pod cannot start: image pull, crash loop, container configuration, a volume that does not
   * mount or attach, or ContainerCreating for too long.
   */
  STALLED("Stalled", false),
  /** The scheduler finds no node (e.g. no free GPU) for longer than the configured time. */
  UNSCHEDULABLE("Unschedulable", false);

  private final String type;
  private final boolean alwaysShown;

  ConditionType(String type, boolean alwaysShown) {
    this.type = type;
    this.alwaysShown = alwaysShown;
  }

  public String type() {
    return type;
  }

  /**
   * The four lifecycle conditions are always present (True or False); the others only while True.
   */
  public boolean alwaysShown() {
    return alwaysShown;
  }
}
