package io.concepterasure.trainer.job;

import io.concepterasure.trainer.storage.ByteSizes;
import io.concepterasure.trainer.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The room left on the scratch volume, checked before a download so that a model that cannot fit
 * fails at once, with both numbers, rather than after hours of download. The volume is an emptyDir
 * whose sizeLimit the kubelet enforces by evicting the pod, not as a file-system quota, so the
 * limit ({@value #ENV_SIZE_BYTES}, set by the operator) counts as much as the disk's free space.
 */
public final class ScratchSpace {
  public static final String ENV_SIZE_BYTES = "CE_SCRATCH_SIZE_BYTES";

  private final Path folder;
  private final Long sizeLimit;

  public ScratchSpace(Path folder, Long sizeLimit) {
    this.folder = folder;
    this.sizeLimit = sizeLimit;
  }

  /** The scratch folder with the operator's size limit, if the environment sets one. */
  public static ScratchSpace from(Path folder, Map<String, String> environment) {
    String limit = environment.get(ENV_SIZE_BYTES);
    if (limit == null || limit.isBlank()) {
      return new ScratchSpace(folder, null);
    }
    try {
      return new ScratchSpace(folder, Long.parseLong(limit.strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          ENV_SIZE_BYTES + " must be a number of bytes, got '" + limit + "'");
    }
  }

  /** Bytes that can still be written: the disk's free space, and what the limit leaves. */
  public long free() throws IOException {
    long disk = Files.getFileStore(folder).getUsableSpace();
    return sizeLimit == null ? disk : Math.max(0, Math.min(disk, sizeLimit - used()));
  }

  /** Throws (invalid input: a retry on the same volume cannot fit it either) when short. */
  public void require(long bytes, String what) throws StorageException {
    long free;
    try {
      free = free();
    } catch (IOException e) {
      throw new StorageException("cannot measure the free space of " + folder + ": " + e, false, e);
    }
    if (bytes > free) {
      throw new StorageException(
          what
              + " needs "
              + ByteSizes.describe(bytes)
              + " on the scratch volume "
              + folder
              + ", which has "
              + ByteSizes.describe(free)
              + " free"
              + (sizeLimit == null ? "" : " of its " + ByteSizes.describe(sizeLimit))
              + "; raise spec.resources.scratch",
          true);
    }
  }

  private long used() throws IOException {
    if (!Files.isDirectory(folder)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(folder)) {
      long total = 0;
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        try {
          total += Files.size(p);
        } catch (IOException e) {
          // a file removed while walking: it takes no room
        }
      }
      return total;
    }
  }
}
