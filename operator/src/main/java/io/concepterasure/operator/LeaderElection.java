package io.concepterasure.operator;

import io.concepterasure.operator.config.OperatorSettings;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * Two replicas are safe: only the holder of the Lease {@code concepterasure.lease-name} (in the
 * operator's namespace) reconciles.
 */
@Singleton
public class LeaderElection extends LeaderElectionConfiguration {
  @Inject
  public LeaderElection(OperatorSettings settings) {
    // Longer than JOSDK's 15/10/2 s: a batch operator can afford a slower failover, and a busy
    // node should not cost the lease (losing it ends the process).
    super(
        settings.leaseName(),
        null,
        Duration.ofSeconds(30),
        Duration.ofSeconds(20),
        Duration.ofSeconds(4));
  }
}
