package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * Lets the trainer read its own ConceptErasure and patch its status (resourceNames), nothing else.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainerRoleDependentResource extends OwnedDependentResource<Role> {

  public TrainerRoleDependentResource() {
    super(Role.class);
  }

  @Override
  protected Role desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    return new RoleBuilder()
        .withMetadata(metadata(erasure, ErasureLabels.trainerName(erasure), "trainer"))
        // Reading its own resource lets a client patch its status the usual way (fabric8 reads
        // first).
        .addNewRule()
        .withApiGroups(ConceptErasure.GROUP)
        .withResources("concepterasures")
        .withResourceNames(erasure.getMetadata().getName())
        .withVerbs("get")
        .endRule()
        .addNewRule()
        .withApiGroups(ConceptErasure.GROUP)
        .withResources("concepterasures/status")
        .withResourceNames(erasure.getMetadata().getName())
        .withVerbs("get", "patch")
        .endRule()
        .build();
  }
}
