package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.testing.KubeApiServerExtension;
import io.concepterasure.operator.testing.Samples;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged operator (target/quarkus-app) as its own process against a kube-apiserver, with 200
 * resources applied at once: wall time and the process's peak resident memory (VmHWM). A benchmark,
 * not a CI test; numbers go to docs/benchmarks.md.
 */
@EnabledIfSystemProperty(
    named = "ce.bench",
    matches = "true",
    disabledReason = "benchmark: run after `package` with -Dce.bench=true (see docs/benchmarks.md)")
class OperatorProcessBenchmark {
  @RegisterExtension static final KubeApiServerExtension API_SERVER = new KubeApiServerExtension();
  static final int RESOURCES = 200;

  @Test
  void twoHundredResourcesWithTheOperatorInItsOwnProcess() throws Exception {
    Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
    assertThat(jar)
        .as("build the operator first: mvn -pl api,operator -am package -DskipTests")
        .exists();
    Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
    Files.writeString(kubeconfig, API_SERVER.kubeConfigYaml());
    KubernetesClient client = API_SERVER.client();
    String namespace = API_SERVER.newNamespace("bench");

    ProcessBuilder builder =
        new ProcessBuilder("java", "-Xmx512m", "-jar", jar.toString())
            .redirectErrorStream(true)
            .redirectOutput(Path.of("target", "operator-bench.log").toFile());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("QUARKUS_HTTP_PORT", "0");
    Process operator = builder.start();
    try {
      Thread.sleep(5000); // let it start and sync its informers before the burst
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
      String proc = Files.readString(Path.of("/proc", Long.toString(operator.pid()), "status"));
      String report =
          String.format(
              "resources=%d%nall_jobs_s=%.2f%nall_status_s=%.2f%n%s%n%s%n",
              RESOURCES,
              (jobs - start) / 1e9,
              (statuses - start) / 1e9,
              line(proc, "VmHWM"),
              line(proc, "VmRSS"));
      System.out.println(report);
      Files.createDirectories(Path.of("target", "benchmarks"));
      Files.writeString(Path.of("target", "benchmarks", "operator-process-200.txt"), report);
    } finally {
      operator.destroy();
      if (!operator.waitFor(30, TimeUnit.SECONDS)) {
        operator.destroyForcibly().waitFor();
      }
    }
  }

  private static String line(String procStatus, String key) throws IOException {
    return procStatus
        .lines()
        .filter(l -> l.startsWith(key + ":"))
        .findFirst()
        .orElse(key + ": ?")
        .replaceAll("\\s+", " ");
  }
}
