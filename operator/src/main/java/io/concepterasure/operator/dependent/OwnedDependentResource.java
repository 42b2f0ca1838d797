package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;

/** An object the operator makes for one ConceptErasure, owned by it (the controller reference). */
public abstract class OwnedDependentResource<R extends HasMetadata>
    extends CRUDKubernetesDependentResource<R, ConceptErasure> {

  protected OwnedDependentResource(Class<R> type) {
    super(type);
  }

  protected static ObjectMeta metadata(ConceptErasure erasure, String name, String component) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(erasure.getMetadata().getNamespace())
        .withLabels(ErasureLabels.of(erasure, component))
        .withOwnerReferences(ErasureLabels.controllerReference(erasure))
        .build();
  }

  /** The controller reference is set in desired(); JOSDK's plain one would lack the flags. */
  @Override
  protected boolean addOwnerReference() {
    return false;
  }
}
