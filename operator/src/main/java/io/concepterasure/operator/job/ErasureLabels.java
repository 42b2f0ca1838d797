package io.concepterasure.operator.job;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.LinkedHashMap;
import java.util.Map;

/** Names, labels and annotations of the objects the operator makes for a ConceptErasure. */
public final class ErasureLabels {
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "concept-erasure-operator";
  public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + MANAGED_BY_VALUE;
  public static final String NAME = "app.kubernetes.io/name";
  public static final String INSTANCE = "app.kubernetes.io/instance";

  /** Carries the owning resource's name; maps pods (made by the Job controller) back to it. */
  public static final String ERASURE = "concepterasure.io/erasure";

  public static final String SPEC_HASH = "concepterasure.io/spec-hash";

  /**
   * Held on the Job until the resource's status records its outcome: a Job that its TTL deletes
   * while the operator is down stays until the operator has read it.
   */
  public static final String OUTCOME_FINALIZER = "concepterasure.io/outcome";

  public static final String KUEUE_QUEUE_NAME = "kueue.x-k8s.io/queue-name";
  public static final String TRAINER_CONTAINER = "trainer";

  private ErasureLabels() {}

  public static Map<String, String> of(ConceptErasure erasure, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, MANAGED_BY_VALUE);
    labels.put(NAME, "concept-erasure-" + component);
    labels.put(INSTANCE, erasure.getMetadata().getName());
    labels.put(ERASURE, erasure.getMetadata().getName());
    return labels;
  }

  /**
   * The controller reference with blockOwnerDeletion: deleting the resource deletes the object
   * (and, for the Job, its pods) through Kubernetes' garbage collector; nothing else adopts it.
   */
  public static OwnerReference controllerReference(ConceptErasure erasure) {
    return new OwnerReferenceBuilder()
        .withApiVersion(erasure.getApiVersion())
        .withKind(erasure.getKind())
        .withName(erasure.getMetadata().getName())
        .withUid(erasure.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  public static String jobName(ConceptErasure erasure) {
    return erasure.getMetadata().getName() + "-erasure";
  }

  public static String configMapName(ConceptErasure erasure) {
    return erasure.getMetadata().getName() + "-request";
  }

  /** ServiceAccount, Role and RoleBinding share this name. */
  public static String trainerName(ConceptErasure erasure) {
    return erasure.getMetadata().getName() + "-trainer";
  }
}
