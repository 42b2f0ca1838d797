package io.concepterasure.operator.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The one-node cluster of {@code tools/cluster/cluster.sh} on this machine: real etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, containerd and kubelet. What
 * tests need of it: an admin client, the node's address on the pod bridge (where servers that pods
 * must reach listen; pods reach nothing else), image import, namespaces. Closing it runs {@code
 * down} if this JVM brought it up.
 */
public final class LocalCluster implements AutoCloseable {
  private static final long UP_TIMEOUT_MINUTES = 20;

  private final Path script;
  private final Path logDir;
  private final boolean ownsCluster;
  private final Map<String, String> env;
  private final KubernetesClient client;
  private final Set<String> imported = new HashSet<>();

  private LocalCluster(Path script, Path logDir, boolean ownsCluster) {
    this.script = script;
    this.logDir = logDir;
    this.ownsCluster = ownsCluster;
    this.env = readEnv(script, logDir);
    this.client =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(readString(Path.of(env.get("KUBECONFIG")))))
            .build();
  }

  /**
   * Brings the cluster up (or finds it up: {@code up} is idempotent). A cluster that was already up
   * is left up on close; one started here is taken down. {@code -Dce.cluster.keep=true} leaves it
   * up either way (for looking around after a test).
   */
  static LocalCluster start() {
    Path root = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    Path script = root.resolve("tools/cluster/cluster.sh");
    Path logDir = root.resolve("operator/target/local-cluster");
    boolean wasUp = run(script, logDir, "status", 1) == 0;
    int code = run(script, logDir, "up", UP_TIMEOUT_MINUTES);
    if (code != 0) {
      throw new IllegalStateException(
          "tools/cluster/cluster.sh up failed (exit "
              + code
              + "): "
              + tail(logDir.resolve("cluster.log"))
              + " (whole log: "
              + logDir.resolve("cluster.log")
              + ")");
    }
    return new LocalCluster(script, logDir, !wasUp && !Boolean.getBoolean("ce.cluster.keep"));
  }

  public KubernetesClient client() {
    return client;
  }

  /** A new client of its own (e.g. for an operator that closes its client on stop). */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(readString(Path.of(env.get("KUBECONFIG")))))
        .build();
  }

  /** The admin kubeconfig's path, for kubectl or a process started by a test. */
  public Path kubeconfig() {
    return Path.of(env.get("KUBECONFIG"));
  }

  /** The host's address on the pod bridge: the API server's, and the only one pods can reach. */
  public InetAddress nodeAddress() {
    try {
      return InetAddress.getByName(env.get("CE_CLUSTER_NODE_IP"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String nodeName() {
    return env.get("CE_CLUSTER_NODE_NAME");
  }

  /** The pod subnet, e.g. {@code 10.213.0.0/24}. */
  public String podSubnet() {
    return env.get("CE_CLUSTER_POD_SUBNET");
  }

  /** The small probe image the script builds (a static binary, see tools/cluster/images/probe). */
  public String probeImage() {
    return env.get("CE_CLUSTER_PROBE_IMAGE");
  }

  /**
   * Imports an OCI image archive (Jib's {@code buildTar}, umoci's) into the node's containerd, once
   * per archive and JVM; pods then run it with {@code imagePullPolicy: IfNotPresent} or {@code
   * Never}.
   */
  public synchronized void importImage(Path archive) {
    String key = archive.toAbsolutePath() + "@" + lastModified(archive);
    if (imported.contains(key)) {
      return;
    }
    int code = run(script, logDir, List.of("import", archive.toAbsolutePath().toString()), 10);
    if (code != 0) {
      throw new IllegalStateException(
          "cluster.sh import " + archive + " failed: " + tail(logDir.resolve("cluster.log")));
    }
    imported.add(key);
  }

  /** A fresh namespace, so that tests do not see each other's objects. */
  public String newNamespace(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  @Override
  public void close() {
    client.close();
    if (ownsCluster) {
      int code = run(script, logDir, "down", 5);
      if (code != 0) {
        throw new IllegalStateException(
            "tools/cluster/cluster.sh down left things behind: "
                + tail(logDir.resolve("cluster.log")));
      }
    }
  }

  private static Map<String, String> readEnv(Path script, Path logDir) {
    Path out = logDir.resolve("env");
    try {
      Process process =
          new ProcessBuilder(script.toString(), "env")
              .redirectOutput(out.toFile())
              .redirectError(
                  ProcessBuilder.Redirect.appendTo(logDir.resolve("cluster.log").toFile()))
              .start();
      if (!process.waitFor(1, TimeUnit.MINUTES) || process.exitValue() != 0) {
        throw new IllegalStateException("cluster.sh env failed");
      }
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : Files.readAllLines(out)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          env.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int run(Path script, Path logDir, String command, long timeoutMinutes) {
    return run(script, logDir, List.of(command), timeoutMinutes);
  }

  /** Runs the script with its output appended to target/local-cluster/cluster.log. */
  private static int run(Path script, Path logDir, List<String> args, long timeoutMinutes) {
    List<String> command = new ArrayList<>();
    command.add(script.toString());
    command.addAll(args);
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve("cluster.log");
      Files.writeString(
          log,
          "$ cluster.sh " + String.join(" ", args) + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      if (!process.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long lastModified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
