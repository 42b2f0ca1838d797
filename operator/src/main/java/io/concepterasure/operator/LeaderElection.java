package io.concepterasure.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * Two replicas are safe: only the holder of this Lease (in the operator's namespace) reconciles.
 */
@Singleton
public class LeaderElection extends LeaderElectionConfiguration {
  public LeaderElection() {
    // Longer than JOSDK's 15/10/2 s: a batch operator can afford a slower failover, and a busy
    // node should not cost the lease (losing it ends the process).
    super(
        "concept-erasure-operator-lease",
        null,
        Duration.ofSeconds(30),
        Duration.ofSeconds(20),
        Duration.ofSeconds(4));
  }
}
