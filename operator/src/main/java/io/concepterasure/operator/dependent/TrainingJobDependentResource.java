package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.ErasureLabels;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.job.TrainingJobFactory;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import jakarta.inject.Inject;
import java.util.Objects;

/**
 * The training Job. Created once; only {@code spec.suspend} is ever updated (the rest of a Job's
 * template is immutable, and so is the request). Deliberately not garbage-collected by the
 * workflow: when the resource turns terminal the Job stays for its logs until its TTL; the owner
 * reference still removes it with the resource.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainingJobDependentResource extends KubernetesDependentResource<Job, ConceptErasure>
    implements Creator<Job, ConceptErasure>, Updater<Job, ConceptErasure> {

  @Inject
  OperatorSettings settings;

  public TrainingJobDependentResource() {
    super(Job.class);
  }

  /** For a plain JOSDK Operator (tests), where no CDI container injects the settings. */
  public void setSettings(OperatorSettings settings) {
    this.settings = settings;
  }

  @Override
  protected Job desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    return new TrainingJobFactory(settings).build(erasure);
  }

  @Override
  public Matcher.Result<Job> match(Job actual, ConceptErasure erasure, Context<ConceptErasure> context) {
    Job desired = desired(erasure, context);
    // With a queue, Kueue owns spec.suspend after creation: admitting the Job means unsuspending it.
    boolean matched = erasure.getSpec().getQueueName() != null
        || Objects.equals(Boolean.TRUE.equals(actual.getSpec().getSuspend()),
            Boolean.TRUE.equals(desired.getSpec().getSuspend()));
    return Matcher.Result.computed(matched, desired);
  }

  @Override
  public Job update(Job actual, Job desired, ConceptErasure erasure, Context<ConceptErasure> context) {
    return context.getClient().batch().v1().jobs().resource(actual)
        .edit(job -> {
          job.getSpec().setSuspend(desired.getSpec().getSuspend());
          return job;
        });
  }

  @Override
  protected boolean addOwnerReference() {
    return true;
  }
}
