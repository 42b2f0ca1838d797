package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** Binds the trainer's Role to the trainer's ServiceAccount. */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainerRoleBindingDependentResource extends OwnedDependentResource<RoleBinding> {

  public TrainerRoleBindingDependentResource() {
    super(RoleBinding.class);
  }

  @Override
  protected RoleBinding desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    String name = ErasureLabels.trainerName(erasure);
    return new RoleBindingBuilder()
        .withMetadata(metadata(erasure, name, "trainer"))
        .withNewRoleRef()
        .withApiGroup("rbac.authorization.k8s.io")
        .withKind("Role")
        .withName(name)
        .endRoleRef()
        .addNewSubject()
        .withKind("ServiceAccount")
        .withName(name)
        .withNamespace(erasure.getMetadata().getNamespace())
        .endSubject()
        .build();
  }
}
