package io.concepterasure.trainer.job;

import io.concepterasure.trainer.erasure.ErasureOutput;
import io.concepterasure.trainer.erasure.ErasureRequest;
import io.concepterasure.trainer.erasure.InvalidRequestException;
import io.concepterasure.trainer.erasure.TrainingStateReplica;
import io.concepterasure.trainer.hub.HubClient;
import io.concepterasure.trainer.storage.InvalidStorageUriException;
import io.concepterasure.trainer.storage.ObjectStore;
import io.concepterasure.trainer.storage.S3Settings;
import io.concepterasure.trainer.storage.StorageException;
import io.concepterasure.trainer.storage.StorageUri;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The local folders an erasure reads and writes, for the locations of a request: a {@code pvc://}
 * location is its mount under {@code CE_PVC_ROOT} (read and written in place, so a restarted pod
 * resumes from the state saved there); an {@code s3://} or {@code hf://} model is downloaded into
 * the scratch folder first ({@link ModelFetcher}), and an {@code s3://} output is written there and
 * uploaded when the erasure is done, model_index.json and then erasure.json last, so that a reader
 * who sees erasure.json sees a complete model. The training state of an {@code s3://} output is
 * copied under the output's {@code .erasure-state/} prefix as it is saved (the scratch volume dies
 * with the pod), fetched back by the next pod, and removed once erasure.json is stored. Plain paths
 * and file: URIs are left to {@code ErasureRun}.
 */
public final class RequestStorage implements AutoCloseable {
  public static final String ENV_SCRATCH_DIR = "CE_SCRATCH_DIR";
  public static final String ENV_PVC_ROOT = "CE_PVC_ROOT";
  public static final String ENV_MODEL_CREDENTIALS_DIR = "CE_MODEL_CREDENTIALS_DIR";
  public static final String ENV_OUTPUT_CREDENTIALS_DIR = "CE_OUTPUT_CREDENTIALS_DIR";
  static final Path DEFAULT_PVC_ROOT = Path.of("/mnt/pvc");
  private static final List<String> COMMIT_LAST =
      List.of(ObjectStore.MODEL_INDEX, ErasureOutput.RECORD);

  private final Path modelFolder;
  private final Path outputFolder;
  private final ObjectStore outputStore;
  private final boolean outputFinished;
  private final String modelCommit;
  private final Path temporaryScratch;
  private final PrintWriter log;

  private RequestStorage(
      Path modelFolder,
      Path outputFolder,
      ObjectStore outputStore,
      boolean outputFinished,
      String modelCommit,
      Path temporaryScratch,
      PrintWriter log) {
    this.modelCommit = modelCommit;
    this.modelFolder = modelFolder;
    this.outputFolder = outputFolder;
    this.outputStore = outputStore;
    this.outputFinished = outputFinished;
    this.temporaryScratch = temporaryScratch;
    this.log = log;
  }

  /**
   * Resolves the request's locations; downloads an s3:// model and an s3:// output's erasure.json
   * (so that a finished erasure is recognised and not run again).
   */
  public static RequestStorage prepare(
      ErasureRequest request, Map<String, String> environment, PrintWriter log) throws IOException {
    return prepare(request, environment, HubClient.Retry.DEFAULT, log);
  }

  /** {@link #prepare(ErasureRequest, Map, PrintWriter)} with how hard to retry the Hub. */
  public static RequestStorage prepare(
      ErasureRequest request,
      Map<String, String> environment,
      HubClient.Retry hubRetry,
      PrintWriter log)
      throws IOException {
    StorageUri model = parse("model.uri", request.model().uri());
    StorageUri output = parse("output.uri", request.output().uri());
    Path pvcRoot = Path.of(environment.getOrDefault(ENV_PVC_ROOT, DEFAULT_PVC_ROOT.toString()));
    boolean remoteModel = remote(model);
    boolean remoteOutput = remote(output);
    Path temporaryScratch = null;
    Path scratch = null;
    if (remoteModel || remoteOutput) {
      String configured = environment.get(ENV_SCRATCH_DIR);
      if (configured != null && !configured.isBlank()) {
        scratch = Path.of(configured);
      } else {
        scratch = temporaryScratch = Files.createTempDirectory("erase-");
      }
    }
    Path modelFolder = null;
    Path outputFolder = null;
    ObjectStore outputStore = null;
    boolean outputFinished = false;
    String modelCommit = null;
    try {
      // The output first: a finished one needs no model, and a saved state names the commit its
      // training read (a branch may have moved since).
      if (output.scheme() == StorageUri.Scheme.PVC) {
        outputFolder = output.localPath(pvcRoot);
      } else if (remoteOutput) {
        outputFolder = fresh(scratch.resolve("output"));
        outputStore =
            ObjectStore.open(output, settings(environment, ENV_OUTPUT_CREDENTIALS_DIR), pvcRoot);
        if (outputStore.exists(ErasureOutput.RECORD)) {
          outputStore.download(ErasureOutput.RECORD, outputFolder.resolve(ErasureOutput.RECORD));
          outputFinished = true;
        } else if (!outputStore.list(ErasureOutput.STATE).isEmpty()) {
          log.println(
              "fetching the saved training state from "
                  + output.resolve(ErasureOutput.STATE)
                  + "/");
          outputStore.downloadFolder(
              ErasureOutput.STATE, outputFolder.resolve(ErasureOutput.STATE));
        }
      }
      if (model.scheme() == StorageUri.Scheme.PVC) {
        modelFolder = model.localPath(pvcRoot);
      } else if (remoteModel) {
        modelFolder = fresh(scratch.resolve("model"));
        if (outputFinished) {
          log.println("the output is finished (erasure.json): the model is not downloaded");
        } else {
          StorageUri source =
              pinnedToSavedCommit(model, stateFolder(output, outputFolder, pvcRoot));
          modelCommit =
              new ModelFetcher(environment, hubRetry, log)
                  .fetch(
                      source,
                      modelFolder,
                      scratch,
                      folder(environment, ENV_MODEL_CREDENTIALS_DIR),
                      pvcRoot);
        }
      }
    } catch (IOException | RuntimeException e) {
      if (outputStore != null) {
        outputStore.close();
      }
      deleteTree(temporaryScratch);
      throw e;
    }
    return new RequestStorage(
        modelFolder, outputFolder, outputStore, outputFinished, modelCommit, temporaryScratch, log);
  }

  /** Where the output's training state is on this machine, or null (none to look at). */
  private static Path stateFolder(StorageUri output, Path outputFolder, Path pvcRoot) {
    if (outputFolder != null) {
      return outputFolder.resolve(ErasureOutput.STATE);
    }
    return output.scheme() == StorageUri.Scheme.FILE
        ? output.localPath(pvcRoot).resolve(ErasureOutput.STATE)
        : null;
  }

  /**
   * An hf:// model at the commit a saved training state was trained on (ErasureRun records it as
   * {@value ErasureOutput#STATE_MODEL}), so that a resumed run never mixes two commits of a moving
   * branch; the model as asked otherwise.
   */
  private static StorageUri pinnedToSavedCommit(StorageUri model, Path stateFolder)
      throws IOException {
    if (model.scheme() != StorageUri.Scheme.HUGGING_FACE || stateFolder == null) {
      return model;
    }
    Optional<String> commit = ErasureOutput.savedModelCommit(stateFolder);
    return commit
        .map(c -> new StorageUri(model.scheme(), model.authority(), model.path(), c))
        .orElse(model);
  }

  /** The local model folder, or null: the request's own location is local. */
  public Path modelFolder() {
    return modelFolder;
  }

  /** The commit an hf:// model's revision resolved to (erasure.json records it), or null. */
  public String modelCommit() {
    return modelCommit;
  }

  /** The local output folder, or null: the request's own location is local. */
  public Path outputFolder() {
    return outputFolder;
  }

  /**
   * Where the run copies its training state: under the output's {@code .erasure-state/} prefix for
   * an s3:// output, nowhere otherwise.
   */
  public TrainingStateReplica stateReplica() {
    if (outputStore == null) {
      return TrainingStateReplica.NONE;
    }
    return new TrainingStateReplica() {
      @Override
      public void saved(Path file) throws IOException {
        // One object per file, each replaced whole: a pod killed mid-upload leaves the previous
        // one.
        outputStore.upload(file, ErasureOutput.STATE + "/" + file.getFileName());
      }

      @Override
      public void cleared() throws IOException {
        deleteState();
      }
    };
  }

  /**
   * Uploads a staged output (unless it was already finished there); erasure.json is the last object
   * written, then the saved training state is removed.
   */
  public void publish() throws IOException {
    if (outputStore == null) {
      return;
    }
    if (!outputFinished) {
      log.println("uploading the erased model to " + outputStore.location());
      outputStore.uploadFolder(outputFolder, "", COMMIT_LAST);
    }
    // Also after a pod that stored erasure.json and died before this.
    deleteState();
  }

  private void deleteState() throws IOException {
    for (String name : outputStore.list(ErasureOutput.STATE)) {
      outputStore.delete(name);
    }
  }

  @Override
  public void close() throws IOException {
    if (outputStore != null) {
      outputStore.close();
    }
    deleteTree(temporaryScratch);
  }

  private static boolean remote(StorageUri uri) {
    return uri.scheme() == StorageUri.Scheme.S3 || uri.scheme() == StorageUri.Scheme.HUGGING_FACE;
  }

  private static StorageUri parse(String field, String uri) {
    try {
      return StorageUri.parse(uri);
    } catch (InvalidStorageUriException e) {
      throw new InvalidRequestException(field + ": " + e.getMessage());
    }
  }

  private static S3Settings settings(Map<String, String> environment, String credentialsVariable)
      throws StorageException {
    return S3Settings.from(environment, folder(environment, credentialsVariable));
  }

  /** A mounted Secret's folder, or null when the request references none. */
  private static Path folder(Map<String, String> environment, String credentialsVariable) {
    String folder = environment.get(credentialsVariable);
    return folder == null || folder.isBlank() ? null : Path.of(folder);
  }

  /** An empty folder: what an earlier attempt left in scratch is not trusted. */
  private static Path fresh(Path folder) throws IOException {
    deleteTree(folder);
    return Files.createDirectories(folder);
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
