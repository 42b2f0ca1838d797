package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.config.KeyValueList;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.job.ErasureLabels;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * The trainer's identity: one per resource, so its Role can name that resource alone. It carries
 * the operator's configured annotations, which cloud workload identity (IRSA, GKE, Azure) reads to
 * give the pod storage credentials without static keys.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainerServiceAccountDependentResource extends OwnedDependentResource<ServiceAccount> {

  @Inject OperatorSettings settings;

  public TrainerServiceAccountDependentResource() {
    super(ServiceAccount.class);
  }

  /** For a plain JOSDK Operator (tests), where no CDI container injects the settings. */
  public void setSettings(OperatorSettings settings) {
    this.settings = settings;
  }

  @Override
  protected ServiceAccount desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    ObjectMeta metadata = metadata(erasure, ErasureLabels.trainerName(erasure), "trainer");
    Map<String, String> annotations =
        KeyValueList.parse(
            "concepterasure.trainer-service-account-annotations",
            settings.trainerServiceAccountAnnotations());
    if (!annotations.isEmpty()) {
      metadata.setAnnotations(annotations);
    }
    return new ServiceAccountBuilder().withMetadata(metadata).build();
  }
}
