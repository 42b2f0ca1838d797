package io.concepterasure.trainer.job;

import io.concepterasure.trainer.hub.HubClient;
import io.concepterasure.trainer.hub.HubModelDownloader;
import io.concepterasure.trainer.hub.HubSettings;
import io.concepterasure.trainer.storage.ObjectStore;
import io.concepterasure.trainer.storage.S3Settings;
import io.concepterasure.trainer.storage.StorageException;
import io.concepterasure.trainer.storage.StorageUri;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * Downloads a remote model ({@code s3://} or {@code hf://}) into a local folder on the scratch
 * volume, after checking that it fits there. One way for {@code erase} and {@code generate}.
 */
public final class ModelFetcher {
  private final Map<String, String> environment;
  private final HubClient.Retry hubRetry;
  private final PrintWriter log;

  /**
   * @param environment the contract's variables (credentials folder, scratch size) and, for the
   *     Hub, {@code HF_TOKEN}/{@code HF_ENDPOINT} when the credentials folder has no such file
   */
  public ModelFetcher(Map<String, String> environment, HubClient.Retry hubRetry, PrintWriter log) {
    this.environment = environment;
    this.hubRetry = hubRetry;
    this.log = log;
  }

  /**
   * Fetches {@code model} into {@code folder} (empty) on the scratch volume {@code scratch}.
   *
   * @param credentials the mounted Secret's folder, or null
   * @return the commit an {@code hf://} revision resolved to; null for other sources
   */
  public String fetch(StorageUri model, Path folder, Path scratch, Path credentials, Path pvcRoot)
      throws IOException {
    ScratchSpace space = ScratchSpace.from(scratch, environment);
    if (model.scheme() == StorageUri.Scheme.HUGGING_FACE) {
      HubSettings settings = HubSettings.from(environment, credentials);
      log.println("downloading the model from " + model + " (" + settings + ") to " + folder);
      try {
        return new HubModelDownloader(new HubClient(settings, hubRetry, log), log)
            .download(model.path(), model.revision(), null, folder, space::require)
            .snapshot()
            .commit();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StorageException(model + ": interrupted while downloading", false, e);
      }
    }
    try (ObjectStore store =
        ObjectStore.open(model, S3Settings.from(environment, credentials), pvcRoot)) {
      long bytes = store.sizes("").values().stream().mapToLong(Long::longValue).sum();
      space.require(bytes, model.toString());
      log.println("downloading the model from " + model + " to " + folder);
      store.downloadFolder("", folder);
      return null;
    }
  }
}
