package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The trainer's identity: one per resource, so its Role can name that resource alone. */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainerServiceAccountDependentResource extends OwnedDependentResource<ServiceAccount> {

  public TrainerServiceAccountDependentResource() {
    super(ServiceAccount.class);
  }

  @Override
  protected ServiceAccount desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    return new ServiceAccountBuilder()
        .withMetadata(metadata(erasure, ErasureLabels.trainerName(erasure), "trainer"))
        .build();
  }
}
