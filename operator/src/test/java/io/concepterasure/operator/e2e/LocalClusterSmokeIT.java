package io.concepterasure.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.operator.testing.LocalCluster;
import io.concepterasure.operator.testing.RealClusterExtension;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tier 3, the node itself: a Job of the trainer's shape (Guaranteed QoS, uid 65532, read-only root,
 * seccomp RuntimeDefault, all capabilities dropped) goes through the real scheduler, kubelet,
 * containerd/runc and Job controller, and its termination message comes back in the pod status. The
 * container is the probe image (tools/cluster/images/probe): it reports what it saw.
 */
@ExtendWith(RealClusterExtension.class)
class LocalClusterSmokeIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aRestrictedJobRunsToCompletionAndReportsThroughItsTerminationMessage(LocalCluster cluster)
      throws Exception {
    KubernetesClient client = cluster.client();
    String namespace = cluster.newNamespace("smoke");
    // One of this machine's own addresses off the bridge: a pod must have no route to it.
    Optional<InetAddress> uplink = uplinkAddress(cluster.nodeAddress());
    Job job =
        client
            .resource(
                probeJob(
                    namespace,
                    "probe",
                    cluster.probeImage(),
                    uplink.map(a -> a.getHostAddress() + ":22").orElse("")))
            .create();

    Job done =
        await()
            .atMost(Duration.ofMinutes(2))
            .until(
                () -> client.batch().v1().jobs().inNamespace(namespace).withName("probe").get(),
                j -> hasCondition(j, "Complete") || hasCondition(j, "Failed"));
    assertThat(hasCondition(done, "Complete")).as("Job status: %s", done.getStatus()).isTrue();

    Pod pod = onlyPod(client, namespace, job);
    assertThat(pod.getSpec().getNodeName()).isEqualTo(cluster.nodeName());
    assertThat(pod.getStatus().getQosClass()).isEqualTo("Guaranteed");
    assertThat(inSubnet(pod.getStatus().getPodIP(), cluster.podSubnet())).isTrue();
    ContainerStateTerminated terminated =
        pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isZero();

    JsonNode report = JSON.readTree(terminated.getMessage());
    assertThat(report.get("uid").asInt()).isEqualTo(65532);
    assertThat(report.get("gid").asInt()).isEqualTo(65532);
    assertThat(report.get("readOnlyRoot").asBoolean()).isTrue();
    // 2 = SECCOMP_MODE_FILTER: RuntimeDefault's filter is on.
    assertThat(report.get("seccomp").asText()).isEqualTo("2");
    // The API server answered at the kubernetes Service's ClusterIP (kube-proxy) over TLS checked
    // against the published kube-root-ca.crt, with the pod's ServiceAccount token.
    assertThat(report.get("apiServer").asText()).isEqualTo("200");
    if (uplink.isPresent()) {
      assertThat(report.get("outside").asText()).contains("network is unreachable");
    }

    // Each part of the path left its own record.
    List<Event> events = client.v1().events().inNamespace(namespace).list().getItems();
    assertThat(events)
        .extracting(e -> e.getReason() + " by " + reporter(e))
        .contains(
            "SuccessfulCreate by job-controller",
            "Scheduled by default-scheduler",
            "Started by kubelet",
            "Completed by job-controller");
  }

  @Test
  void theTtlControllerAndTheGarbageCollectorRemoveAFinishedJobAndItsPods(LocalCluster cluster) {
    KubernetesClient client = cluster.client();
    String namespace = cluster.newNamespace("ttl");
    Job job = probeJob(namespace, "short-lived", cluster.probeImage(), "");
    job.getSpec().setTtlSecondsAfterFinished(1);
    Job created = client.resource(job).create();
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> !client.pods().inNamespace(namespace).list().getItems().isEmpty());

    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                client.batch().v1().jobs().inNamespace(namespace).withName("short-lived").get()
                        == null
                    && client
                        .pods()
                        .inNamespace(namespace)
                        .withLabel(
                            "batch.kubernetes.io/controller-uid", created.getMetadata().getUid())
                        .list()
                        .getItems()
                        .isEmpty());
  }

  static Job probeJob(String namespace, String name, String image, String outside) {
    Map<String, Quantity> resources =
        Map.of("cpu", new Quantity("100m"), "memory", new Quantity("64Mi"));
    return new JobBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(0)
        .withNewTemplate()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(65532L)
        .withRunAsGroup(65532L)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName("probe")
        .withImage(image)
        .withImagePullPolicy("Never")
        .addNewEnv()
        .withName("PROBE_OUTSIDE")
        .withValue(outside)
        .endEnv()
        .withNewResources()
        .withRequests(resources)
        .withLimits(resources)
        .endResources()
        .withNewSecurityContext()
        .withReadOnlyRootFilesystem(true)
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** core/v1 Events name their source; events.k8s.io ones (the scheduler's) their controller. */
  private static String reporter(Event event) {
    return event.getSource() != null && event.getSource().getComponent() != null
        ? event.getSource().getComponent()
        : event.getReportingComponent();
  }

  private static boolean hasCondition(Job job, String type) {
    return job != null
        && job.getStatus() != null
        && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream()
            .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static Pod onlyPod(KubernetesClient client, String namespace, Job job) {
    List<Pod> pods =
        client
            .pods()
            .inNamespace(namespace)
            .withLabel("batch.kubernetes.io/controller-uid", job.getMetadata().getUid())
            .list()
            .getItems();
    assertThat(pods).hasSize(1);
    return pods.get(0);
  }

  private static Optional<InetAddress> uplinkAddress(InetAddress node) throws SocketException {
    return NetworkInterface.networkInterfaces()
        .filter(
            i -> {
              try {
                return i.isUp() && !i.isLoopback();
              } catch (SocketException e) {
                return false;
              }
            })
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address && !a.equals(node))
        .findFirst();
  }

  static boolean inSubnet(String address, String cidr) throws Exception {
    int prefix = Integer.parseInt(cidr.substring(cidr.indexOf('/') + 1));
    int net = toInt(InetAddress.getByName(cidr.substring(0, cidr.indexOf('/'))));
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    return (toInt(InetAddress.getByName(address)) & mask) == (net & mask);
  }

  private static int toInt(InetAddress address) {
    byte[] b = address.getAddress();
    return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
  }
}
