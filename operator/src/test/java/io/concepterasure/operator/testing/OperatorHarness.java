package io.concepterasure.operator.testing;

import io.concepterasure.operator.ConceptErasureReconciler;
import io.concepterasure.operator.config.OperatorSettings;
import io.concepterasure.operator.dependent.TrainerServiceAccountDependentResource;
import io.concepterasure.operator.dependent.TrainingJobDependentResource;
import io.concepterasure.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.config.dependent.DependentResourceSpec;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResourceFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The operator, started in the test JVM as a plain JOSDK Operator with the same reconciler and
 * workflow that QOSDK runs in production; only CDI is replaced (settings handed over by hand).
 * Stopping it and starting another is an operator restart: new caches, nothing kept in memory.
 */
public final class OperatorHarness implements AutoCloseable {
  private final Operator operator;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private OperatorHarness(KubernetesClient client, OperatorSettings settings) {
    operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(true)
                    .checkingCRDAndValidateLocalModel(false)
                    .withConcurrentReconciliationThreads(10)
                    .withDependentResourceFactory(new SettingsInjectingFactory(settings)));
    operator.register(new ConceptErasureReconciler(settings, new OperatorMetrics(registry)));
  }

  public static OperatorHarness start(KubeApiServerExtension apiServer, OperatorSettings settings) {
    OperatorHarness harness = new OperatorHarness(apiServer.newClient(), settings);
    harness.operator.start();
    return harness;
  }

  /** The operator with the given client, e.g. one acting as the operator's ServiceAccount. */
  public static OperatorHarness start(KubernetesClient client, OperatorSettings settings) {
    OperatorHarness harness = new OperatorHarness(client, settings);
    harness.operator.start();
    return harness;
  }

  public SimpleMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    operator.stop();
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private record SettingsInjectingFactory(OperatorSettings settings)
      implements DependentResourceFactory<ControllerConfiguration<?>, DependentResourceSpec> {
    @Override
    public DependentResource createFrom(
        DependentResourceSpec spec, ControllerConfiguration<?> configuration) {
      DependentResource dependent =
          DependentResourceFactory.DEFAULT.createFrom(spec, configuration);
      if (dependent instanceof TrainingJobDependentResource job) {
        job.setSettings(settings);
      }
      if (dependent instanceof TrainerServiceAccountDependentResource account) {
        account.setSettings(settings);
      }
      return dependent;
    }
  }
}
