package io.concepterasure.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.operator.testing.KubeApiServerTestResource;
import io.concepterasure.operator.testing.Samples;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged wiring: QOSDK runs the reconciler as a CDI bean with the configured settings, and
 * the application serves health probes and Prometheus metrics, against a real kube-apiserver.
 */
@QuarkusTest
@QuarkusTestResource(value = KubeApiServerTestResource.class, restrictToAnnotatedClass = true)
class OperatorApplicationTest {
  @Inject KubernetesClient client;

  @TestHTTPResource("/q/health/ready")
  URL ready;

  @TestHTTPResource("/q/health/live")
  URL live;

  @TestHTTPResource("/q/metrics")
  URL metrics;

  @Inject LeaderElection leaderElection;

  @Test
  void theLeaseIsNamedByConfiguration() {
    // src/test/resources/application.properties sets it as the chart's env does for a release.
    assertThat(leaderElection.getLeaseName()).isEqualTo("from-config-lease");
  }

  @Test
  void reconcilesWithTheConfiguredImageAndServesProbesAndMetrics() throws Exception {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName("app").endMetadata().build())
        .create();
    client.resource(Samples.nudity("app", "wired")).create();

    Job job =
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> client.batch().v1().jobs().inNamespace("app").withName("wired-erasure").get(),
                j -> j != null);
    // application.properties in src/test/resources sets these images: config reaches the
    // dependent (the sample asks for a GPU: the CUDA flavour).
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example/concepterasure/trainer:from-config-cuda");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              ConceptErasure e =
                  client.resources(ConceptErasure.class).inNamespace("app").withName("wired").get();
              return e.getStatus() != null
                  && e.getStatus().getPhase() == Phase.PENDING
                  && e.getStatus().getJobName() != null;
            });

    HttpClient http = HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(30)).until(() -> get(http, ready).statusCode() == 200);
    assertThat(get(http, live).statusCode()).isEqualTo(200);
    String scraped = get(http, metrics).body();
    assertThat(scraped)
        .contains("concepterasure_reconciliations_total")
        .contains("concepterasure_resources{phase=\"Pending\"} 1.0");
  }

  private static HttpResponse<String> get(HttpClient http, URL url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url.toString())).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
