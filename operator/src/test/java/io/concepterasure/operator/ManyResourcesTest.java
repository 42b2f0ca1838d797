package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.OperatorHarness;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * 200 resources applied at once all reach exactly one Job each. The wall time and the JVM's peak
 * heap are recorded (target/benchmarks/operator-200.txt, then docs/benchmarks.md), not asserted.
 */
class ManyResourcesTest {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final int RESOURCES = 200;

  @Test
  void twoHundredResourcesAppliedAtOnceAllReachTheirJob() throws Exception {
    KubernetesClient client = API_SERVER.client();
    String namespace = API_SERVER.newNamespace("many");
    System.gc();
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    long heapBefore = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

    try (OperatorHarness operator = OperatorHarness.start(API_SERVER, TestSettings.defaults())) {
      long start = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(16);
      List<Future<ConceptErasure>> created =
          IntStream.range(0, RESOURCES)
              .mapToObj(
                  i ->
                      pool.submit(
                          () -> client.resource(Samples.nudity(namespace, "r" + i)).create()))
              .toList();
      for (Future<ConceptErasure> f : created) {
        f.get();
      }
      pool.shutdown();
      long applied = System.nanoTime();
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  client.batch().v1().jobs().inNamespace(namespace).list().getItems().size()
                      >= RESOURCES);
      long jobs = System.nanoTime();
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  client
                          .resources(ConceptErasure.class)
                          .inNamespace(namespace)
                          .list()
                          .getItems()
                          .stream()
                          .filter(e -> e.getStatus() != null && e.getStatus().getJobName() != null)
                          .count()
                      == RESOURCES);
      long statuses = System.nanoTime();

      List<Job> all = client.batch().v1().jobs().inNamespace(namespace).list().getItems();
      assertThat(all).hasSize(RESOURCES);
      assertThat(all).extracting(j -> j.getMetadata().getName()).doesNotHaveDuplicates();
      long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
      // What stays: the operator's informer caches of 200 resources and their 1000 objects (+ the
      // test's client).
      System.gc();
      long live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

      String report =
          String.format(
              "resources=%d%ncreate_all_s=%.2f%nall_jobs_s=%.2f%nall_status_s=%.2f%nheap_before_mib=%d%nheap_peak_mib=%d%nheap_live_after_gc_mib=%d%n"
                  + "cpus=%d%nmax_heap_mib=%d%n",
              RESOURCES,
              (applied - start) / 1e9,
              (jobs - start) / 1e9,
              (statuses - start) / 1e9,
              heapBefore >> 20,
              peak >> 20,
              live >> 20,
              Runtime.getRuntime().availableProcessors(),
              Runtime.getRuntime().maxMemory() >> 20);
      System.out.println(report);
      write(report);
    }
  }

  private static void write(String report) throws IOException {
    Path dir = Path.of("target", "benchmarks");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("operator-200.txt"), report);
  }
}
