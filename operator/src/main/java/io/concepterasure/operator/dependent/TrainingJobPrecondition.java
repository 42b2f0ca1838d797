package io.concepterasure.operator.dependent;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.validation.ConceptErasureValidator;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/**
 * A Job is made only for a valid request that has not ended, and only once: a Job that vanished
 * after it was made (TTL, a person) is never made again for the same resource.
 */
public class TrainingJobPrecondition implements Condition<Job, ConceptErasure> {

  @Override
  public boolean isMet(DependentResource<Job, ConceptErasure> dependent, ConceptErasure erasure,
      Context<ConceptErasure> context) {
    if (erasure.getStatus() != null && erasure.getStatus().getPhase() != null
        && erasure.getStatus().getPhase().isTerminal()) {
      return false;
    }
    if (!ConceptErasureValidator.validate(erasure).isEmpty()) {
      return false;
    }
    boolean madeBefore = erasure.getStatus() != null && erasure.getStatus().getJobName() != null;
    return !madeBefore || context.getSecondaryResource(Job.class).isPresent();
  }
}
