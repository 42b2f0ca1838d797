package io.concepterasure.operator.events;

/** Reasons of the Kubernetes Events the operator records, one per transition. */
public enum EventReason {
  JobCreated(false),
  Queued(false),
  Running(false),
  Suspended(false),
  Resumed(false),
  Succeeded(false),
  Failed(true),
  InvalidSpec(true),
  ImagePullBackOff(true),
  CrashLoopBackOff(true),
  ContainerConfigError(true),
  FailedMount(true),
  FailedAttachVolume(true),
  ContainerCreating(true),
  Unschedulable(true);

  private final boolean warning;

  EventReason(boolean warning) {
    this.warning = warning;
  }

  public String eventType() {
    return warning ? "Warning" : "Normal";
  }
}
