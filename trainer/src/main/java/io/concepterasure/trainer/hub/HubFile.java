package io.concepterasure.trainer.hub;

/**
 * A file of a Hub repository at a commit, as the model info lists it ({@code siblings} with {@code
 * blobs=true}).
 *
 * @param path '/'-separated, relative to the repository
 * @param size bytes; -1 when the endpoint did not say
 * @param sha256 the LFS object's sha256 (large files), or null
 * @param gitBlobId git's blob id, sha1 of {@code "blob <size>\0" + content} (small files kept in
 *     git), or null
 */
public record HubFile(String path, long size, String sha256, String gitBlobId) {
  /** Whether the Hub stores it in LFS (large files: weights). */
  public boolean lfs() {
    return sha256 != null;
  }
}
