package io.concepterasure.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.inject.Singleton;

/** Two replicas are safe: only the holder of this Lease (in the operator's namespace) reconciles. */
@Singleton
public class LeaderElection extends LeaderElectionConfiguration {
  public LeaderElection() {
    super("concept-erasure-operator-lease");
  }
}
