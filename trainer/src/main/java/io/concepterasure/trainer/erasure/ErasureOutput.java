package io.concepterasure.trainer.erasure;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The output location of an erasure on a local (or mounted) file system, with its rule: an output
 * is complete if and only if {@code erasure.json} is there. The model is written to a staging
 * folder inside it, moved into place ({@code model_index.json}, which makes it loadable, last of
 * the model files) and then {@code erasure.json} is written atomically, last of all. The training
 * state of an unfinished run lives beside it until the commit.
 */
public final class ErasureOutput {
  public static final String RECORD = "erasure.json";
  static final String STAGING = ".erasure-staging";

  /** The training state's folder (prefix of an s3:// output); erasure.json never lists it. */
  public static final String STATE = ".erasure-state";

  /** In the state folder: {"commit": …}, the hf:// commit the saved state was trained on. */
  public static final String STATE_MODEL = "model.json";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;

  public ErasureOutput(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** The record of a finished erasure in this location, or null when unfinished or empty. */
  public Map<String, Object> finishedRecord() throws IOException {
    Path record = root.resolve(RECORD);
    if (!Files.isRegularFile(record)) {
      return null;
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> value = JSON.readValue(record.toFile(), Map.class);
    return value;
  }

  /** A fresh, empty staging folder (whatever an earlier attempt left there is removed). */
  public Path freshStaging() throws IOException {
    Path staging = root.resolve(STAGING);
    deleteTree(staging);
    Files.createDirectories(staging);
    return staging;
  }

  /** Where the training state of this run is saved, for a restarted run to resume from. */
  public Path stateFolder() {
    return root.resolve(STATE);
  }

  /** The hf:// commit recorded beside a saved training state, if any. */
  public static Optional<String> savedModelCommit(Path stateFolder) throws IOException {
    Path file = stateFolder.resolve(STATE_MODEL);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    String commit = JSON.readTree(file.toFile()).path("commit").asText("");
    return commit.matches("[0-9a-f]{40}") ? Optional.of(commit) : Optional.empty();
  }

  /**
   * Moves the staged files into place and writes {@code record} as erasure.json, last; then removes
   * the training state. The caller has put the sha256 of the staged files in the record.
   */
  public void commit(Map<String, Object> record) throws IOException {
    Path staging = root.resolve(STAGING);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(staging)) {
      files =
          walk.filter(Files::isRegularFile)
              .sorted(
                  Comparator.comparing(
                          (Path p) -> p.getFileName().toString().equals("model_index.json"))
                      .thenComparing(Path::toString))
              .toList();
    }
    for (Path file : files) {
      Path target = root.resolve(staging.relativize(file).toString());
      Files.createDirectories(target.getParent());
      Files.move(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    Path temp = root.resolve(RECORD + ".tmp");
    JSON.writeValue(temp.toFile(), record);
    Files.move(
        temp,
        root.resolve(RECORD),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    deleteTree(staging);
    deleteTree(stateFolder());
  }

  /**
   * The sha256 of every file under {@code folder}, by path relative to it ('/' separated), sorted.
   */
  public static Map<String, String> sha256Tree(Path folder) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        String relative = folder.relativize(file).toString().replace('\\', '/');
        if (!relative.startsWith(STAGING)
            && !relative.startsWith(STATE)
            && !relative.equals(RECORD)) {
          out.put(relative, sha256(file));
        }
      }
    }
    return out;
  }

  public static String sha256(Path file) throws IOException {
    try (InputStream in =
        new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      byte[] buffer = new byte[1 << 20];
      while (in.read(buffer) >= 0) {
        // the digest stream hashes as it reads
      }
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }

  static void deleteTree(Path folder) throws IOException {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(folder)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
