package io.concepterasure.operator;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.dependent.TrainerConfigMapDependentResource;
import io.concepterasure.operator.dependent.TrainerRoleBindingDependentResource;
import io.concepterasure.operator.dependent.TrainerRoleDependentResource;
import io.concepterasure.operator.dependent.TrainerServiceAccountDependentResource;
import io.concepterasure.operator.dependent.TrainingJobDependentResource;
import io.concepterasure.operator.events.EventRecorder;
import io.concepterasure.operator.job.ErasureLabels;
import io.concepterasure.operator.metrics.OperatorMetrics;
import io.concepterasure.operator.status.ConceptErasureStatusAggregator;
import io.concepterasure.operator.status.TrainingState;
import io.concepterasure.operator.status.TrainingStateMapper;
import io.concepterasure.operator.validation.ConceptErasureValidator;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Turns a ConceptErasure into a training Job and keeps its status following the Job. The workflow
 * makes the owned objects; then observe (the mapper, read-only), validate, and write the status
 * (the aggregator) with an Event per transition.
 */
@ControllerConfiguration(name = ConceptErasureReconciler.NAME)
@Workflow(
    dependents = {
      @Dependent(name = "request", type = TrainerConfigMapDependentResource.class),
      @Dependent(name = "service-account", type = TrainerServiceAccountDependentResource.class),
      @Dependent(name = "role", type = TrainerRoleDependentResource.class),
      @Dependent(
          name = "role-binding",
          type = TrainerRoleBindingDependentResource.class,
          dependsOn = {"role", "service-account"}),
      @Dependent(
          name = "job",
          type = TrainingJobDependentResource.class,
          dependsOn = {"request", "role-binding"})
    })
public class ConceptErasureReconciler implements Reconciler<ConceptErasure> {
  public static final String NAME = "concepterasure";
  private static final Logger LOG = Logger.getLogger(ConceptErasureReconciler.class);

  private final TrainingStateMapper mapper;
  private final OperatorMetrics metrics;

  public ConceptErasureReconciler(OperatorSettings settings, OperatorMetrics metrics) {
    this.mapper = new TrainingStateMapper(settings);
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, ConceptErasure>> prepareEventSources(
      EventSourceContext<ConceptErasure> context) {
    // Pods are made by the Job controller, not by us: they carry the resource's name as a label.
    var pods =
        InformerEventSourceConfiguration.from(Pod.class, ConceptErasure.class)
            .withName("pods")
            .withLabelSelector(ErasureLabels.MANAGED_SELECTOR)
            .withSecondaryToPrimaryMapper(
                pod ->
                    Optional.ofNullable(pod.getMetadata().getLabels())
                        .map(l -> l.get(ErasureLabels.ERASURE))
                        .map(name -> Set.of(new ResourceID(name, pod.getMetadata().getNamespace())))
                        .orElse(Set.of()))
            .build();
    return List.of(new InformerEventSource<>(pods, context));
  }

  @Override
  public UpdateControl<ConceptErasure> reconcile(
      ConceptErasure erasure, Context<ConceptErasure> context) {
    metrics.watch(context.getPrimaryCache());
    metrics.reconciled();
    ConceptErasureStatus previous = erasure.getStatus();
    if (previous != null && previous.getPhase() != null && previous.getPhase().isTerminal()) {
      return UpdateControl.noUpdate();
    }
    Instant now = Instant.now();
    List<String> problems = ConceptErasureValidator.validate(erasure);
    Optional<Job> job = context.getSecondaryResource(Job.class);
    Optional<Pod> pod =
        context
            .getSecondaryResourcesAsStream(Pod.class)
            .max(
                Comparator.comparing(
                        (Pod p) ->
                            Optional.ofNullable(p.getMetadata().getCreationTimestamp()).orElse(""))
                    .thenComparing(p -> p.getMetadata().getName()));
    TrainingState state = mapper.map(erasure, problems, job, pod, now);

    if (state.stopJob() && job.isPresent()) {
      LOG.infof(
          "Deleting Job %s of %s/%s: %s",
          job.get().getMetadata().getName(),
          erasure.getMetadata().getNamespace(),
          erasure.getMetadata().getName(),
          state.failure().getReason());
      context
          .getClient()
          .resource(job.get())
          .withPropagationPolicy(DeletionPropagation.BACKGROUND)
          .delete();
    }

    ConceptErasureStatus next =
        ConceptErasureStatusAggregator.next(
            erasure, state, job.map(j -> j.getMetadata().getName()).orElse(null), now);
    for (ConceptErasureStatusAggregator.Transition t :
        ConceptErasureStatusAggregator.transitions(previous, next)) {
      EventRecorder.record(context.getClient(), erasure, t.reason(), t.message());
    }
    if (next.getPhase().isTerminal()) {
      metrics.finished(next);
    }

    UpdateControl<ConceptErasure> control =
        ConceptErasureStatusAggregator.differs(previous, next)
            ? UpdateControl.patchStatus(statusPatch(erasure, next))
            : UpdateControl.noUpdate();
    if (state.recheckAfter() != null) {
      control.rescheduleAfter(state.recheckAfter());
    }
    return control;
  }

  @Override
  public ErrorStatusUpdateControl<ConceptErasure> updateErrorStatus(
      ConceptErasure erasure, Context<ConceptErasure> context, Exception e) {
    metrics.failedReconciliation();
    LOG.warnf(
        e,
        "Reconciling %s/%s failed; retrying",
        erasure.getMetadata().getNamespace(),
        erasure.getMetadata().getName());
    if (erasure.getStatus() == null || erasure.getStatus().getPhase() == null) {
      // Never leave a resource with an empty status while its objects cannot be made.
      ConceptErasureStatus status = new ConceptErasureStatus();
      status.setPhase(Phase.PENDING);
      status.setObservedGeneration(erasure.getMetadata().getGeneration());
      return ErrorStatusUpdateControl.patchStatus(statusPatch(erasure, status));
    }
    return ErrorStatusUpdateControl.defaultErrorProcessing();
  }

  /** A fresh object with only name, namespace and status: server-side apply owns no other field. */
  private static ConceptErasure statusPatch(ConceptErasure erasure, ConceptErasureStatus status) {
    ConceptErasure patch = new ConceptErasure();
    patch.setMetadata(
        new ObjectMetaBuilder()
            .withName(erasure.getMetadata().getName())
            .withNamespace(erasure.getMetadata().getNamespace())
            .build());
    patch.setStatus(status);
    return patch;
  }
}
