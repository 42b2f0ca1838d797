package io.concepterasure.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureStatus;
import io.concepterasure.api.v1alpha1.Phase;
import io.concepterasure.operator.testing.LocalCluster;
import io.concepterasure.operator.testing.NodeS3Server;
import io.concepterasure.operator.testing.OperatorDeployment;
import io.concepterasure.operator.testing.RealClusterExtension;
import io.concepterasure.operator.testing.Safetensors;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tier 3, the product's promise end to end: a {@code ConceptErasure} applied to a real one-node
 * cluster becomes an erased model in object storage and a {@code Succeeded} status. Everything on
 * the path is real: the operator runs as its image under {@code manifests/rbac.yaml}; the real Job
 * controller, scheduler and kubelet run the trainer's image through containerd and runc; the pods
 * read the toy model from and write the result to an S3 server on the node's bridge address, the
 * only address they can reach. Nothing here calls the operator's or the trainer's code in this JVM.
 */
@ExtendWith(RealClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConceptErasureEndToEndIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MODELS = "models";
  private static final String OUTPUTS = "erased";
  private static final String SECRET = "s3-credentials";
  private static final Duration TRAINING = Duration.ofMinutes(8);

  private Path root;
  private Path work;
  private LocalCluster cluster;
  private KubernetesClient client;
  private NodeS3Server s3;
  private OperatorDeployment operator;
  private String trainerImage;

  @BeforeAll
  void installTheOperatorAndTheModel(LocalCluster cluster) throws Exception {
    this.cluster = cluster;
    this.client = cluster.client();
    root = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    work = root.resolve("operator/target/e2e");
    Files.createDirectories(work);
    trainerImage = required("ce.trainer.image");
    cluster.importImage(Path.of(required("ce.trainer.image.archive")));
    cluster.importImage(Path.of(required("ce.operator.image.archive")));

    s3 = new NodeS3Server(cluster.nodeAddress());
    s3.createBucket(MODELS);
    s3.createBucket(OUTPUTS);
    s3.putFolder(MODELS, "toy-shapes", root.resolve("examples/models/toy-shapes"));

    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("CONCEPTERASURE_TRAINER_IMAGE", trainerImage);
    // Short enough for scenario 5 to end within the test's time.
    settings.put("CONCEPTERASURE_POD_START_FAILURE_TIMEOUT", "90s");
    settings.put("CONCEPTERASURE_IMAGE_PULL_FAILURE_TIMEOUT", "90s");
    operator = OperatorDeployment.install(client, root, required("ce.operator.image"), settings);
  }

  @AfterAll
  void keepTheOperatorLog() throws Exception {
    if (operator != null) {
      Files.writeString(work.resolve("operator.log"), operator.log());
      operator.uninstall();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  /**
   * 1 and 6: circle → square on the toy model, s3:// in and out, credentials by Secret. Then the
   * resource is deleted: the real garbage collector removes what the operator made, and the output
   * stays.
   */
  @Test
  void anErasureBecomesAnErasedModelInObjectStorageAndDeletingItKeepsTheModel() throws Exception {
    String ns = cluster.newNamespace("e2e-ok");
    String output = "s3://" + OUTPUTS + "/" + ns + "/circle-to-square";
    createCredentials(ns);
    create(ns, erasure("circle-to-square", "s3://" + MODELS + "/toy-shapes", output, 120));

    List<Integer> progress = new ArrayList<>();
    ConceptErasure done =
        awaitResource(
            ns,
            "circle-to-square",
            TRAINING,
            r -> {
              if (r.getStatus() != null && r.getStatus().getProgress() != null) {
                Integer i = r.getStatus().getProgress().getIteration();
                if (i != null
                    && (progress.isEmpty() || !progress.get(progress.size() - 1).equals(i))) {
                  progress.add(i);
                }
              }
              return terminal(r);
            });
    assertPhase(ns, done, Phase.SUCCEEDED);
    ConceptErasureStatus status = done.getStatus();
    // Progress moved while the pod trained, reported by the trainer itself through the API.
    assertThat(progress).as("progress seen").hasSizeGreaterThan(1);
    assertThat(progress.stream().anyMatch(i -> i > 0 && i < 120))
        .as("progress %s", progress)
        .isTrue();

    // status.result names the output and the stored erasure.json's checksum.
    String prefix = ns + "/circle-to-square";
    byte[] record = s3.get(OUTPUTS, prefix + "/erasure.json");
    assertThat(status.getResult().getOutputUri()).isEqualTo(output);
    assertThat(status.getResult().getErasureJsonSha256()).isEqualTo(sha256(record));

    // The objects in S3 are exactly those that erasure.json lists, with those checksums.
    JsonNode outputFiles = JSON.readTree(record).get("outputFiles");
    Map<String, String> listed = new TreeMap<>();
    outputFiles.fields().forEachRemaining(f -> listed.put(f.getKey(), f.getValue().asText()));
    Set<String> stored = new TreeSet<>();
    for (String key : s3.list(OUTPUTS, prefix).keySet()) {
      stored.add(key.substring(prefix.length() + 1));
    }
    Set<String> expected = new TreeSet<>(listed.keySet());
    expected.add("erasure.json");
    assertThat(stored).isEqualTo(expected);
    for (Map.Entry<String, String> file : listed.entrySet()) {
      assertThat(sha256(s3.get(OUTPUTS, prefix + "/" + file.getKey())))
          .as(file.getKey())
          .isEqualTo(file.getValue());
    }

    // The erased model draws squares where the original drew circles (the toy shape classifier,
    // through `trainer generate` on this host, from the objects in S3).
    Path erased = work.resolve(ns + "-erased");
    s3.getFolder(OUTPUTS, prefix, erased);
    List<String> circles = List.of("a red circle", "a blue circle", "a green circle");
    Map<String, Long> before = judge(root.resolve("examples/models/toy-shapes"), circles);
    Map<String, Long> after = judge(erased, circles);
    assertThat(before.getOrDefault("circle", 0L))
        .as("original: %s", before)
        .isGreaterThanOrEqualTo(5);
    assertThat(after.getOrDefault("square", 0L)).as("erased: %s", after).isGreaterThanOrEqualTo(5);
    assertThat(after.getOrDefault("circle", 0L)).as("erased: %s", after).isLessThanOrEqualTo(1);

    // Each step left an Event on the resource.
    assertThat(events(ns, "circle-to-square")).contains("JobCreated", "Succeeded");
    // The secret never shows up in what the cluster recorded.
    assertThat(operator.log()).doesNotContain(s3.secretKey);

    // 6: deleting the resource deletes what the operator made (the real garbage collector follows
    // the owner references); the erased model stays in S3.
    assertThat(
            client
                .batch()
                .v1()
                .jobs()
                .inNamespace(ns)
                .withLabel("concepterasure.io/erasure", "circle-to-square")
                .list()
                .getItems())
        .isNotEmpty();
    client.resources(ConceptErasure.class).inNamespace(ns).withName("circle-to-square").delete();
    awaitGone(ns, Duration.ofMinutes(2));
    assertThat(s3.list(OUTPUTS, prefix).keySet()).hasSize(expected.size());
    assertThat(sha256(s3.get(OUTPUTS, prefix + "/erasure.json"))).isEqualTo(sha256(record));
  }

  /**
   * 2: the trainer's pod is evicted in the middle; the Job controller starts another, which resumes
   * from the training state saved under the output location and ends where an uninterrupted run
   * ends.
   */
  @Test
  void anEvictedTrainerResumesFromItsSavedStateAndEndsWhereAnUninterruptedRunEnds()
      throws Exception {
    String ns = cluster.newNamespace("e2e-resume");
    createCredentials(ns);
    String model = "s3://" + MODELS + "/toy-shapes";
    // Two runs of the same request: one evicted after its first saved state (the trainer saves
    // every 50 iterations and reports progress every 15 s, so 200 leave a wide window), one left
    // alone.
    create(ns, erasure("evicted", model, "s3://" + OUTPUTS + "/" + ns + "/evicted", 200));
    ConceptErasure running =
        awaitResource(ns, "evicted", TRAINING, r -> terminal(r) || iteration(r) > 52);
    assertThat(terminal(running)).as("finished before it could be evicted").isFalse();
    Pod first = onlyPod(ns, "evicted");
    client.pods().inNamespace(ns).withName(first.getMetadata().getName()).evict();

    ConceptErasure done = awaitResource(ns, "evicted", TRAINING, this::terminal);
    assertPhase(ns, done, Phase.SUCCEEDED);
    List<Pod> pods = pods(ns, "evicted");
    // The pods after the evicted one: one of them resumed (and none started over).
    List<String> laterLogs =
        pods.stream()
            .filter(p -> !p.getMetadata().getName().equals(first.getMetadata().getName()))
            .map(p -> podLog(ns, p))
            .toList();
    assertThat(laterLogs).as("pods after the eviction: %s", report(ns, "evicted")).isNotEmpty();
    String log = String.join("\n", laterLogs);
    assertThat(log)
        .as("second pod's log")
        .contains("resuming from the state saved after iteration");
    // No training state is left under the output once the model is complete.
    assertThat(s3.list(OUTPUTS, ns + "/evicted").keySet())
        .allMatch(k -> !k.contains(".erasure-state/"));

    create(
        ns, erasure("uninterrupted", model, "s3://" + OUTPUTS + "/" + ns + "/uninterrupted", 200));
    assertPhase(ns, awaitResource(ns, "uninterrupted", TRAINING, this::terminal), Phase.SUCCEEDED);
    String weights = "unet/diffusion_pytorch_model.safetensors";
    double diff =
        Safetensors.maxAbsDifference(
            s3.get(OUTPUTS, ns + "/evicted/" + weights),
            s3.get(OUTPUTS, ns + "/uninterrupted/" + weights));
    assertThat(diff)
        .as("max |evicted - uninterrupted| over the UNet's weights")
        .isLessThanOrEqualTo(1e-6);
  }

  /** 3: a model that does not exist is invalid input: one pod, exit 2, the Job fails at once. */
  @Test
  void aModelThatDoesNotExistFailsAtOnceWithoutASecondPod() {
    String ns = cluster.newNamespace("e2e-invalid");
    createCredentials(ns);
    create(
        ns,
        erasure(
            "no-such-model",
            "s3://" + MODELS + "/no-such-model",
            "s3://" + OUTPUTS + "/" + ns + "/x",
            10));
    ConceptErasure done = awaitResource(ns, "no-such-model", TRAINING, this::terminal);
    assertPhase(ns, done, Phase.FAILED);
    assertThat(done.getStatus().getFailure().getReason()).isEqualTo("InvalidInput");
    assertThat(done.getStatus().getFailure().getExitCode()).isEqualTo(2);
    assertThat(done.getStatus().getFailure().getMessage()).contains("no-such-model");
    assertThat(pods(ns, "no-such-model")).as("pods of the Job").hasSize(1);
    Job job =
        client.batch().v1().jobs().inNamespace(ns).withName(done.getStatus().getJobName()).get();
    assertThat(job.getStatus().getConditions())
        .anyMatch(c -> "Failed".equals(c.getType()) && "PodFailurePolicy".equals(c.getReason()));
    assertThat(s3.list(OUTPUTS, ns)).isEmpty();
  }

  /** 4: suspend deletes the pod, resume brings one back, and the run completes. */
  @Test
  void aSuspendedErasureStopsItsPodAndCompletesWhenResumed() {
    String ns = cluster.newNamespace("e2e-suspend");
    createCredentials(ns);
    create(
        ns,
        erasure(
            "suspended",
            "s3://" + MODELS + "/toy-shapes",
            "s3://" + OUTPUTS + "/" + ns + "/suspended",
            60));
    awaitResource(ns, "suspended", TRAINING, r -> terminal(r) || iteration(r) > 5);
    setSuspend(ns, "suspended", true);
    ConceptErasure suspended =
        awaitResource(
            ns,
            "suspended",
            Duration.ofMinutes(2),
            r ->
                r.getStatus() != null
                    && r.getStatus().getPhase() == Phase.SUSPENDED
                    && activePods(ns, "suspended").isEmpty());
    assertThat(suspended.getStatus().getPhase()).isEqualTo(Phase.SUSPENDED);

    setSuspend(ns, "suspended", false);
    ConceptErasure done = awaitResource(ns, "suspended", TRAINING, this::terminal);
    assertPhase(ns, done, Phase.SUCCEEDED);
    assertThat(events(ns, "suspended")).contains("Suspended", "Resumed", "Succeeded");
  }

  /**
   * 5: a credentials Secret that does not exist: the pod never starts (the kubelet's FailedMount);
   * the status says so with the kubelet's reason, and the resource fails after the configured time.
   */
  @Test
  void aPodThatCannotStartIsReportedAndFailsAfterTheTimeout() {
    String ns = cluster.newNamespace("e2e-stuck");
    // No Secret created: the pod's secret volume cannot be mounted.
    create(
        ns,
        erasure(
            "stuck", "s3://" + MODELS + "/toy-shapes", "s3://" + OUTPUTS + "/" + ns + "/x", 10));
    ConceptErasure reported =
        awaitResource(
            ns,
            "stuck",
            Duration.ofMinutes(2),
            r ->
                terminal(r)
                    || conditionMentions(r, "FailedMount")
                    || conditionMentions(r, "s3-credentials"));
    assertThat(terminal(reported))
        .as("reported before failing: %s", reported.getStatus())
        .isFalse();
    ConceptErasure failed = awaitResource(ns, "stuck", Duration.ofMinutes(3), this::terminal);
    assertPhase(ns, failed, Phase.FAILED);
    assertThat(failed.getStatus().getFailure().getMessage()).contains(SECRET);
  }

  // --- the resources ---

  /** A sample-like request: erase the five coloured circles, draw squares instead. */
  private ConceptErasure erasure(String name, String model, String output, int iterations) {
    String yaml =
        """
        apiVersion: concepterasure.io/v1alpha1
        kind: ConceptErasure
        metadata:
          name: %s
        spec:
          model:
            uri: %s
            credentialsSecretRef: {name: %s}
          concepts:
            - {erase: a red circle, alternative: a red square}
            - {erase: a blue circle, alternative: a blue square}
            - {erase: a green circle, alternative: a green square}
            - {erase: a yellow circle, alternative: a yellow square}
            - {erase: a purple circle, alternative: a purple square}
          method:
            name: allButOne
            iterations: %d
            learningRate: 3.0e-4
            guidanceScale: 3.0
            ddimSteps: 20
            parameters: crossAttention
            seed: 0
          output:
            uri: %s
            credentialsSecretRef: {name: %s}
          evaluation:
            prompts: [a red triangle, a blue cross]
            seeds: [0]
          resources:
            gpus: 0
            cpu: "1"
            memory: 3Gi
          backoffLimit: 2
        """
            .formatted(name, model, SECRET, iterations, output, SECRET);
    return Serialization.unmarshal(yaml, ConceptErasure.class);
  }

  private void create(String ns, ConceptErasure erasure) {
    erasure.getMetadata().setNamespace(ns);
    client.resource(erasure).create();
  }

  private void createCredentials(String ns) {
    client
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(SECRET)
                .withNamespace(ns)
                .endMetadata()
                .withStringData(s3.credentials())
                .build())
        .create();
  }

  private void setSuspend(String ns, String name, boolean suspend) {
    client
        .resources(ConceptErasure.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            r -> {
              r.getSpec().setSuspend(suspend);
              return r;
            });
  }

  // --- waiting, with a report of the whole path when it times out ---

  private ConceptErasure awaitResource(
      String ns, String name, Duration timeout, Predicate<ConceptErasure> done) {
    try {
      return Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> client.resources(ConceptErasure.class).inNamespace(ns).withName(name).get(),
              r -> r != null && done.test(r));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("timed out after " + timeout + ":\n" + report(ns, name), e);
    }
  }

  private void awaitGone(String ns, Duration timeout) {
    try {
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> remainingDependents(ns).isEmpty());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("still there: " + remainingDependents(ns), e);
    }
  }

  /** What the operator made for a resource (and what the Job made), by kind/name. */
  private List<String> remainingDependents(String ns) {
    List<String> left = new ArrayList<>();
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(ns)
        .list()
        .getItems()
        .forEach(j -> left.add("Job/" + j.getMetadata().getName()));
    client
        .pods()
        .inNamespace(ns)
        .list()
        .getItems()
        .forEach(p -> left.add("Pod/" + p.getMetadata().getName()));
    client
        .configMaps()
        .inNamespace(ns)
        .withLabel("app.kubernetes.io/managed-by")
        .list()
        .getItems()
        .forEach(c -> left.add("ConfigMap/" + c.getMetadata().getName()));
    client
        .serviceAccounts()
        .inNamespace(ns)
        .withLabel("app.kubernetes.io/managed-by")
        .list()
        .getItems()
        .forEach(s -> left.add("ServiceAccount/" + s.getMetadata().getName()));
    client
        .rbac()
        .roles()
        .inNamespace(ns)
        .list()
        .getItems()
        .forEach(r -> left.add("Role/" + r.getMetadata().getName()));
    client
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .list()
        .getItems()
        .forEach(r -> left.add("RoleBinding/" + r.getMetadata().getName()));
    return left;
  }

  private void assertPhase(String ns, ConceptErasure erasure, Phase phase) {
    assertThat(erasure.getStatus().getPhase())
        .as(
            "%s",
            new Object() {
              @Override
              public String toString() {
                return report(ns, erasure.getMetadata().getName());
              }
            })
        .isEqualTo(phase);
  }

  private boolean terminal(ConceptErasure r) {
    return r.getStatus() != null
        && r.getStatus().getPhase() != null
        && r.getStatus().getPhase().isTerminal();
  }

  private static int iteration(ConceptErasure r) {
    return r.getStatus() == null
            || r.getStatus().getProgress() == null
            || r.getStatus().getProgress().getIteration() == null
        ? -1
        : r.getStatus().getProgress().getIteration();
  }

  private static boolean conditionMentions(ConceptErasure r, String text) {
    return r.getStatus() != null
        && r.getStatus().getConditions() != null
        && r.getStatus().getConditions().stream()
            .anyMatch(
                c ->
                    (c.getReason() != null && c.getReason().contains(text))
                        || (c.getMessage() != null && c.getMessage().contains(text)));
  }

  private List<Pod> pods(String ns, String erasure) {
    return client
        .pods()
        .inNamespace(ns)
        .withLabel("concepterasure.io/erasure", erasure)
        .list()
        .getItems();
  }

  private List<Pod> activePods(String ns, String erasure) {
    return pods(ns, erasure).stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(
            p ->
                p.getStatus() == null
                    || !Set.of("Succeeded", "Failed").contains(p.getStatus().getPhase()))
        .toList();
  }

  private Pod onlyPod(String ns, String erasure) {
    List<Pod> pods = activePods(ns, erasure);
    assertThat(pods).as("pods of %s", erasure).hasSize(1);
    return pods.get(0);
  }

  private String podLog(String ns, Pod pod) {
    try {
      return client.pods().inNamespace(ns).withName(pod.getMetadata().getName()).getLog();
    } catch (RuntimeException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** The reasons of the Events recorded on the resource. */
  private List<String> events(String ns, String name) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "ConceptErasure".equals(e.getInvolvedObject().getKind()))
        .map(Event::getReason)
        .toList();
  }

  /** Everything a reader needs when a scenario fails: resource, Job, pods, events, logs. */
  private String report(String ns, String name) {
    StringBuilder out = new StringBuilder();
    ConceptErasure r = client.resources(ConceptErasure.class).inNamespace(ns).withName(name).get();
    out.append("resource status: ")
        .append(r == null ? "(gone)" : Serialization.asYaml(r.getStatus()))
        .append("\n");
    for (Job job : client.batch().v1().jobs().inNamespace(ns).list().getItems()) {
      out.append("Job ")
          .append(job.getMetadata().getName())
          .append(": ")
          .append(Serialization.asYaml(job.getStatus()))
          .append("\n");
    }
    for (Pod pod : client.pods().inNamespace(ns).list().getItems()) {
      out.append("Pod ")
          .append(pod.getMetadata().getName())
          .append(": ")
          .append(Serialization.asYaml(pod.getStatus()))
          .append("\nlog:\n")
          .append(tail(podLog(ns, pod), 40))
          .append("\n");
    }
    out.append("events:\n");
    for (Event e : client.v1().events().inNamespace(ns).list().getItems()) {
      out.append("  ")
          .append(e.getInvolvedObject().getKind())
          .append("/")
          .append(e.getInvolvedObject().getName())
          .append(" ")
          .append(e.getReason())
          .append(": ")
          .append(e.getMessage())
          .append("\n");
    }
    out.append(operator.describe());
    return out.toString();
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  // --- the judge: the trainer's jar on this host ---

  /** Generates two seeds per prompt and counts what the toy shape classifier sees, by shape. */
  private Map<String, Long> judge(Path model, List<String> prompts) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "java",
                "-Dai.djl.offline=true",
                "-jar",
                required("ce.trainer.jar"),
                "generate",
                "--model",
                model.toString(),
                "--seed",
                "0",
                "--seed",
                "1",
                "--steps",
                "20",
                "--guidance",
                "3",
                "--classifier",
                root.resolve("examples/models/shape-classifier/classifier.safetensors").toString(),
                "--output",
                work.resolve(model.getFileName() + ".png").toString()));
    for (String prompt : prompts) {
      command.add("--prompt");
      command.add(prompt);
    }
    Path log = work.resolve(model.getFileName() + "-generate.log");
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("generate finished").isTrue();
    String out = Files.readString(log);
    assertThat(process.exitValue()).as(out).isZero();
    return out.lines()
        .filter(l -> l.contains("\t"))
        .map(l -> l.substring(0, l.indexOf('\t')))
        // "a red circle" → "circle"; "none" stays.
        .map(label -> label.substring(label.lastIndexOf(' ') + 1))
        .collect(Collectors.groupingBy(s -> s, TreeMap::new, Collectors.counting()));
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "system property " + property + " is not set (operator/pom.xml sets it for failsafe)");
    }
    return value;
  }
}
