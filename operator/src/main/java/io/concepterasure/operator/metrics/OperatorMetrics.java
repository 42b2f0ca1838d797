package io.concepterasure.operator.metrics;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.Phase;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/** The operator's Prometheus metrics (Micrometer); JOSDK adds its own per-controller ones. */
@Singleton
public class OperatorMetrics {
  private final MeterRegistry registry;
  private final Counter reconciliations;
  private final Counter errors;
  private final AtomicReference<IndexedResourceCache<ConceptErasure>> cache =
      new AtomicReference<>();

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.reconciliations =
        Counter.builder("concepterasure.reconciliations")
            .description("Reconciliations of ConceptErasure resources")
            .register(registry);
    this.errors =
        Counter.builder("concepterasure.reconciliation.errors")
            .description("Reconciliations that ended in an exception (retried)")
            .register(registry);
    for (Phase phase : Phase.values()) {
      // Counted from the informer cache when scraped: no bookkeeping to drift when resources go
      // away.
      Gauge.builder("concepterasure.resources", this, m -> m.count(phase))
          .description("ConceptErasure resources per phase")
          .tag("phase", phaseName(phase))
          .register(registry);
    }
  }

  public void watch(IndexedResourceCache<ConceptErasure> primaries) {
    cache.compareAndSet(null, primaries);
  }

  public void reconciled() {
    reconciliations.increment();
  }

  public void failedReconciliation() {
    errors.increment();
  }

  /** Records the wall time of a finished training, from the pod's start to the outcome. */
  public void finished(ConceptErasureStatus status) {
    if (status.getStartTime() == null || status.getCompletionTime() == null) {
      return;
    }
    Duration d =
        Duration.between(
            Instant.parse(status.getStartTime()), Instant.parse(status.getCompletionTime()));
    Timer.builder("concepterasure.job.duration")
        .description("Wall time of training Jobs from start to outcome")
        .tag("phase", phaseName(status.getPhase()))
        .register(registry)
        .record(d.isNegative() ? Duration.ZERO : d);
  }

  private double count(Phase phase) {
    IndexedResourceCache<ConceptErasure> primaries = cache.get();
    if (primaries == null) {
      return 0;
    }
    return primaries
        .list()
        .filter(e -> phase == (e.getStatus() == null ? Phase.PENDING : e.getStatus().getPhase()))
        .count();
  }

  private static String phaseName(Phase phase) {
    String n = Objects.requireNonNull(phase).name();
    return n.charAt(0) + n.substring(1).toLowerCase();
  }
}
