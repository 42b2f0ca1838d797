package io.concepterasure.operator.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Tier 3: hands tests the {@link LocalCluster} — a real one-node cluster on this machine
 * (tools/cluster/cluster.sh), with the controllers, scheduler and kubelet that kube-api-test lacks.
 * One cluster for the whole test run: started by the first class that asks for it (about 15 s once
 * the binaries are built), shared by every tier-3 class, taken down when the run ends (the root
 * store closes it). Needs root (bridge, mounts, cgroups, iptables), as CI has.
 */
public final class RealClusterExtension implements ParameterResolver {
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == LocalCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return cluster(context);
  }

  public static LocalCluster cluster(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .computeIfAbsent(LocalCluster.class, key -> LocalCluster.start(), LocalCluster.class);
  }
}
