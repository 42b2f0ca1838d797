package io.concepterasure.operator.kueue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Kueue Workload of a queued Job, and the one thing the operator changes on it: {@code
 * spec.active}. Kueue owns a queued Job's {@code spec.suspend} (admission unsuspends it, eviction
 * suspends it again, and it undoes anyone else's change), so stopping and restarting goes the way
 * Kueue documents: a deactivated Workload is evicted (its Job suspended, its pods deleted) and not
 * admitted again until it is active again. Read on demand (Kueue may not be installed: no informer
 * on a type that may not exist).
 */
public final class KueueWorkloads {
  public static final String GROUP = "kueue.x-k8s.io";

  /** Kueue labels each Workload with the uid of the Job it was made for. */
  public static final String JOB_UID_LABEL = "kueue.x-k8s.io/job-uid";

  // Newest first: v1beta2 from Kueue 0.15, v1beta1 before (and still served alongside).
  private static final List<String> VERSIONS = List.of("v1beta2", "v1beta1");

  private KueueWorkloads() {}

  /** The Job's Workload; empty when Kueue has not made it yet, or Kueue is not installed. */
  public static Optional<GenericKubernetesResource> of(KubernetesClient client, Job job) {
    for (String version : VERSIONS) {
      try {
        return client
            .genericKubernetesResources(context(version))
            .inNamespace(job.getMetadata().getNamespace())
            .withLabel(JOB_UID_LABEL, job.getMetadata().getUid())
            .list()
            .getItems()
            .stream()
            .findFirst();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
        // This version is not served: try the next.
      }
    }
    return Optional.empty();
  }

  /** {@code spec.active}, true when unset (Kueue's default). */
  public static boolean active(GenericKubernetesResource workload) {
    Object spec = workload.getAdditionalProperties().get("spec");
    if (spec instanceof Map<?, ?> map && map.get("active") instanceof Boolean active) {
      return active;
    }
    return true;
  }

  /** Sets {@code spec.active} by a merge patch (Kueue owns every other field). */
  public static void setActive(
      KubernetesClient client, GenericKubernetesResource workload, boolean active) {
    String version = workload.getApiVersion().substring(GROUP.length() + 1);
    client
        .genericKubernetesResources(context(version))
        .inNamespace(workload.getMetadata().getNamespace())
        .withName(workload.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"active\":" + active + "}}");
  }

  /** Named in full, not discovered: discovery fails differently for a type that is not there. */
  private static ResourceDefinitionContext context(String version) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(GROUP)
        .withVersion(version)
        .withKind("Workload")
        .withPlural("workloads")
        .withNamespaced(true)
        .build();
  }
}
