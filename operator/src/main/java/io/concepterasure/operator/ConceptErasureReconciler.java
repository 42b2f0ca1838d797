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
import io.concepterasure.operator.kueue.KueueWorkloads;
import io.concepterasure.operator.metrics.OperatorMetrics;
import io.concepterasure.operator.status.ConceptErasureStatusAggregator;
import io.concepterasure.operator.status.TrainingState;
import io.concepterasure.operator.status.TrainingStateMapper;
import io.concepterasure.operator.validation.ConceptErasureValidator;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
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
public class ConceptErasureReconciler
    implements Reconciler<ConceptErasure>, Cleaner<ConceptErasure> {
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
      // The outcome is in the status: the Job may go (its TTL, the garbage collector).
      context.getSecondaryResource(Job.class).ifPresent(j -> releaseJob(context, j));
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
    Optional<Duration> kueueRecheck = job.flatMap(j -> followKueue(erasure, j, context));
    List<Event> podEvents =
        TrainingStateMapper.needsPodEvents(pod) ? podEvents(context, pod.get()) : List.of();
    TrainingState state = mapper.map(erasure, problems, job, pod, podEvents, now);

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

    UpdateControl<ConceptErasure> control = UpdateControl.noUpdate();
    if (ConceptErasureStatusAggregator.differs(previous, next)) {
      ConceptErasure applied =
          context.resourceOperations().serverSideApplyPrimaryStatus(statusPatch(erasure, next));
      if (changedMeanwhile(erasure, applied)) {
        // JOSDK 5.3 defers the informer's events while our patch is in flight and then drops
        // them as our own: a deletion or spec change that landed meanwhile would never be
        // reconciled (seen: a deleted resource kept its finalizer). The patch's answer shows it.
        return control.rescheduleAfter(Duration.ZERO);
      }
    }
    if (state.recheckAfter() != null) {
      control.rescheduleAfter(state.recheckAfter());
    }
    if (kueueRecheck.isPresent() && state.recheckAfter() == null) {
      control.rescheduleAfter(kueueRecheck.get());
    }
    if (next.getPhase().isTerminal() && job.isPresent()) {
      // Released by the next reconciliation, which finds the outcome recorded: only once the
      // status patch has landed may the Job go.
      control.rescheduleAfter(Duration.ofSeconds(1));
    }
    return control;
  }

  /** Whether someone deleted the resource or changed its spec while this reconciliation ran. */
  static boolean changedMeanwhile(ConceptErasure reconciled, ConceptErasure applied) {
    return applied.isMarkedForDeletion()
        || !Objects.equals(
            applied.getMetadata().getGeneration(), reconciled.getMetadata().getGeneration());
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

  /**
   * With a Kueue queue, spec.suspend stops and restarts the run through its Workload's {@code
   * spec.active} (see {@link KueueWorkloads}); returns when to look again if Kueue has not made the
   * Workload yet.
   */
  private static Optional<Duration> followKueue(
      ConceptErasure erasure, Job job, Context<ConceptErasure> context) {
    if (erasure.getSpec().getQueueName() == null || isFinished(job)) {
      return Optional.empty();
    }
    boolean wantActive = !Boolean.TRUE.equals(erasure.getSpec().getSuspend());
    Optional<GenericKubernetesResource> workload = KueueWorkloads.of(context.getClient(), job);
    if (workload.isEmpty()) {
      return wantActive ? Optional.empty() : Optional.of(Duration.ofSeconds(5));
    }
    if (KueueWorkloads.active(workload.get()) != wantActive) {
      LOG.infof(
          "%s Kueue Workload %s of %s/%s (spec.suspend=%s)",
          wantActive ? "Activating" : "Deactivating",
          workload.get().getMetadata().getName(),
          erasure.getMetadata().getNamespace(),
          erasure.getMetadata().getName(),
          !wantActive);
      KueueWorkloads.setActive(context.getClient(), workload.get(), wantActive);
    }
    return Optional.empty();
  }

  private static boolean isFinished(Job job) {
    return job.getStatus() != null
        && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream()
            .anyMatch(
                c ->
                    ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))
                        && "True".equals(c.getStatus()));
  }

  /**
   * The resource is being deleted: its Job must not wait for an outcome that will never be
   * recorded, or the garbage collector could never remove it (and its pods).
   */
  @Override
  public DeleteControl cleanup(ConceptErasure erasure, Context<ConceptErasure> context) {
    context.getSecondaryResource(Job.class).ifPresent(j -> releaseJob(context, j));
    return DeleteControl.defaultDelete();
  }

  private static void releaseJob(Context<ConceptErasure> context, Job job) {
    List<String> finalizers = job.getMetadata().getFinalizers();
    if (finalizers == null || !finalizers.contains(ErasureLabels.OUTCOME_FINALIZER)) {
      return;
    }
    try {
      context
          .getClient()
          .batch()
          .v1()
          .jobs()
          .inNamespace(job.getMetadata().getNamespace())
          .withName(job.getMetadata().getName())
          .edit(
              j -> {
                j.getMetadata().getFinalizers().remove(ErasureLabels.OUTCOME_FINALIZER);
                return j;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      // Already gone (the cache had not seen it yet): nothing to release.
    }
  }

  /**
   * The Events about one pod (the kubelet's FailedMount, the attach-detach controller's
   * FailedAttachVolume). Read on demand, only while a scheduled pod has not started: an informer on
   * every Event of the cluster would cost far more than a list every few seconds for a stuck pod.
   */
  private static List<Event> podEvents(Context<ConceptErasure> context, Pod pod) {
    return context
        .getClient()
        .v1()
        .events()
        .inNamespace(pod.getMetadata().getNamespace())
        .withField("involvedObject.uid", pod.getMetadata().getUid())
        .list()
        .getItems();
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
