package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.ErasureLabels;
import io.concepterasure.operator.job.TrainerContract;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The trainer's request file (request.yaml: the spec), mounted read-only into the training pod. */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainerConfigMapDependentResource extends OwnedDependentResource<ConfigMap> {

  public TrainerConfigMapDependentResource() {
    super(ConfigMap.class);
  }

  @Override
  protected ConfigMap desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    return new ConfigMapBuilder()
        .withMetadata(metadata(erasure, ErasureLabels.configMapName(erasure), "request"))
        .addToData(TrainerContract.REQUEST_KEY, TrainerContract.requestYaml(erasure.getSpec()))
        .build();
  }
}
