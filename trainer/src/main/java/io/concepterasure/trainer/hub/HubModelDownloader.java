package io.concepterasure.trainer.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.diffusion.DiffusersModelLayout;
import io.concepterasure.trainer.storage.ByteSizes;
import io.concepterasure.trainer.storage.StorageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Downloads the Stable Diffusion pipeline of a Hub model into a local folder: the revision resolved
 * once to a commit, {@code model_index.json} and the weight indexes read first to choose the files
 * ({@link PipelineFiles}), the scratch volume's room checked against their total size before the
 * weights come, then each file verified (see {@link HubClient}).
 */
public final class HubModelDownloader {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Throws, naming both numbers, when the scratch volume cannot hold {@code bytes} more. */
  @FunctionalInterface
  public interface SpaceCheck {
    void require(long bytes, String what) throws StorageException;
  }

  /** What was downloaded: the snapshot (with the resolved commit), the files, their total size. */
  public record Result(HubSnapshot snapshot, List<HubFile> files, long bytes) {}

  private final HubClient client;
  private final PrintWriter log;

  public HubModelDownloader(HubClient client, PrintWriter log) {
    this.client = client;
    this.log = log;
  }

  /**
   * @param revision branch, tag or commit; null: main
   * @param variant e.g. fp16; null: the default weights
   */
  public Result download(
      String repo, String revision, String variant, Path folder, SpaceCheck space)
      throws StorageException, InterruptedException {
    HubSnapshot snapshot = client.snapshot(repo, revision);
    String where = snapshot.uri() + " (commit " + snapshot.commit() + ")";
    log.println("resolved " + snapshot.uri() + " to commit " + snapshot.commit());
    Map<String, HubFile> files = snapshot.byPath();
    Set<String> done = new LinkedHashSet<>();
    HubFile index = files.get(DiffusersModelLayout.MODEL_INDEX);
    if (index == null) {
      throw new StorageException(
          where
              + " is not a diffusers pipeline: it has no model_index.json (it has "
              + files.keySet().stream().sorted().limit(12).toList()
              + (files.size() > 12 ? " and " + (files.size() - 12) + " more" : "")
              + ")",
          true);
    }
    PipelineFiles.Selection selection;
    try {
      JsonNode modelIndex = readJson(snapshot, index, folder, done, where);
      selection =
          PipelineFiles.select(
              modelIndex,
              files,
              variant,
              DiffusersModelLayout.STABLE_DIFFUSION_COMPONENTS,
              path -> readJson(snapshot, files.get(path), folder, done, where));
    } catch (StorageException e) {
      throw e;
    } catch (IOException e) {
      throw new StorageException(where + ": " + e.getMessage(), true, e);
    }
    if (!selection.problems().isEmpty()) {
      throw new StorageException(
          where
              + " is not a Stable Diffusion pipeline the trainer can load: "
              + String.join("; ", selection.problems()),
          true);
    }
    List<HubFile> chosen = new ArrayList<>();
    long total = 0;
    long remaining = 0;
    for (String path : selection.files()) {
      HubFile file = files.get(path);
      chosen.add(file);
      total += Math.max(0, file.size());
      if (!done.contains(path)) {
        remaining += Math.max(0, file.size());
      }
    }
    log.println(
        "downloading "
            + chosen.size()
            + " of the repository's "
            + files.size()
            + " files, "
            + ByteSizes.describe(total)
            + ", to "
            + folder);
    space.require(remaining, snapshot.uri());
    for (HubFile file : chosen) {
      if (done.add(file.path())) {
        log.println("  " + file.path() + " (" + ByteSizes.describe(Math.max(0, file.size())) + ")");
        log.flush();
        client.download(snapshot, file, target(folder, file, where));
      }
    }
    return new Result(snapshot, List.copyOf(chosen), total);
  }

  private JsonNode readJson(
      HubSnapshot snapshot, HubFile file, Path folder, Set<String> done, String where)
      throws StorageException, InterruptedException {
    Path target = target(folder, file, where);
    if (done.add(file.path())) {
      client.download(snapshot, file, target);
    }
    try {
      JsonNode node = JSON.readTree(target.toFile());
      if (node == null || !node.isObject()) {
        throw new StorageException(where + ": " + file.path() + " is not a JSON object", true);
      }
      return node;
    } catch (StorageException e) {
      throw e;
    } catch (IOException e) {
      throw new StorageException(
          where + ": " + file.path() + " is not valid JSON: " + e.getMessage(), true, e);
    }
  }

  private static Path target(Path folder, HubFile file, String where) throws StorageException {
    Path root = folder.toAbsolutePath().normalize();
    Path target = root.resolve(file.path()).normalize();
    if (!target.startsWith(root) || target.equals(root)) {
      throw new StorageException(
          where + ": file '" + file.path() + "' does not map to a file inside " + root, true);
    }
    try {
      Files.createDirectories(target.getParent());
    } catch (IOException e) {
      throw new StorageException("cannot create " + target.getParent() + ": " + e, false, e);
    }
    return target;
  }
}
