package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.job.ErasureLabels;
import io.concepterasure.operator.job.TrainingJobFactory;
import io.concepterasure.operator.validation.ConceptErasureValidator;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import jakarta.inject.Inject;
import java.util.Objects;

/**
 * The training Job. Made once per resource, for a valid request that has not ended; only {@code
 * spec.suspend} is ever updated (a Job's template is immutable, and so is the request).
 */
@KubernetesDependent(informer = @Informer(labelSelector = ErasureLabels.MANAGED_SELECTOR))
public class TrainingJobDependentResource extends OwnedDependentResource<Job> {

  @Inject OperatorSettings settings;

  public TrainingJobDependentResource() {
    super(Job.class);
  }

  /** For a plain JOSDK Operator (tests), where no CDI container injects the settings. */
  public void setSettings(OperatorSettings settings) {
    this.settings = settings;
  }

  @Override
  public ReconcileResult<Job> reconcile(ConceptErasure erasure, Context<ConceptErasure> context) {
    if (!shouldExist(erasure, context)) {
      // Not a reconcile precondition: an unmet one would delete the finished Job and its logs.
      return ReconcileResult.noOperation(getSecondaryResource(erasure, context).orElse(null));
    }
    return super.reconcile(erasure, context);
  }

  /**
   * A Job is made only for a valid request that has not ended, and only once: a Job that vanished
   * after it was made (its TTL, a person) is never made again for the same resource.
   */
  static boolean shouldExist(ConceptErasure erasure, Context<ConceptErasure> context) {
    if (erasure.getStatus() != null
        && erasure.getStatus().getPhase() != null
        && erasure.getStatus().getPhase().isTerminal()) {
      return false;
    }
    if (!ConceptErasureValidator.validate(erasure).isEmpty()) {
      return false;
    }
    boolean madeBefore = erasure.getStatus() != null && erasure.getStatus().getJobName() != null;
    return !madeBefore || context.getSecondaryResource(Job.class).isPresent();
  }

  @Override
  protected Job desired(ConceptErasure erasure, Context<ConceptErasure> context) {
    return new TrainingJobFactory(settings).build(erasure);
  }

  @Override
  public Matcher.Result<Job> match(
      Job actual, ConceptErasure erasure, Context<ConceptErasure> context) {
    Job desired = desired(erasure, context);
    // With a queue, Kueue owns spec.suspend after creation: admitting the Job means unsuspending
    // it.
    boolean matched =
        erasure.getSpec().getQueueName() != null
            || Objects.equals(
                Boolean.TRUE.equals(actual.getSpec().getSuspend()),
                Boolean.TRUE.equals(desired.getSpec().getSuspend()));
    return Matcher.Result.computed(matched, desired);
  }

  @Override
  public Job update(
      Job actual, Job desired, ConceptErasure erasure, Context<ConceptErasure> context) {
    return context
        .getClient()
        .batch()
        .v1()
        .jobs()
        .resource(actual)
        .edit(
            job -> {
              job.getSpec().setSuspend(desired.getSpec().getSuspend());
              return job;
            });
  }
}
