package io.concepterasure.operator.events;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Records Kubernetes Events on a ConceptErasure (Flink's EventRecorder): the name is derived from
 * the resource, reason and message, so a repeat bumps the count instead of making a new Event.
 */
public final class EventRecorder {
  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  static final String COMPONENT = "concept-erasure-operator";

  private EventRecorder() {}

  public static void record(
      KubernetesClient client, ConceptErasure erasure, EventReason reason, String message) {
    String namespace = erasure.getMetadata().getNamespace();
    String name = eventName(erasure, reason, message);
    String now = Instant.now().toString();
    try {
      Event existing = client.v1().events().inNamespace(namespace).withName(name).get();
      if (existing != null) {
        existing.setCount(Objects.requireNonNullElse(existing.getCount(), 1) + 1);
        existing.setLastTimestamp(now);
        client.v1().events().inNamespace(namespace).resource(existing).update();
        return;
      }
      client
          .v1()
          .events()
          .inNamespace(namespace)
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withNamespace(namespace)
                  .endMetadata()
                  .withNewInvolvedObject()
                  .withApiVersion(erasure.getApiVersion())
                  .withKind(erasure.getKind())
                  .withName(erasure.getMetadata().getName())
                  .withNamespace(namespace)
                  .withUid(erasure.getMetadata().getUid())
                  .withResourceVersion(erasure.getMetadata().getResourceVersion())
                  .endInvolvedObject()
                  .withReason(reason.name())
                  .withMessage(message)
                  .withType(reason.eventType())
                  .withCount(1)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withNewSource()
                  .withComponent(COMPONENT)
                  .endSource()
                  .withReportingComponent(COMPONENT)
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      // An Event is a courtesy; failing to record one must not fail the reconciliation.
      LOG.warnf(
          "Could not record event %s on %s/%s: %s",
          reason, namespace, erasure.getMetadata().getName(), e.getMessage());
    }
  }

  static String eventName(ConceptErasure erasure, EventReason reason, String message) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  (erasure.getMetadata().getUid() + "/" + reason + "/" + message)
                      .getBytes(StandardCharsets.UTF_8));
      return erasure.getMetadata().getName() + "." + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
