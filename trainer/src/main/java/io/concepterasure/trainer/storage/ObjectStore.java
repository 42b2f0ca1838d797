package io.concepterasure.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.stream.Stream;

/**
 * A place models are read from and written to, rooted at a {@link StorageUri}: object names are
 * '/'-separated and relative to it. Every write is all-or-nothing per object: an upload that fails
 * leaves nothing under its name (S3: a multipart upload is only visible once completed, and is
 * aborted on failure; local: a temporary file moved into place).
 */
public interface ObjectStore extends AutoCloseable {
  /**
   * diffusers' loaders start from this file, so {@link #uploadFolder(Path, String)} writes it last:
   * a folder whose model_index.json is visible is complete.
   */
  String MODEL_INDEX = "model_index.json";

  StorageUri location();

  /** Writes {@code file} as object {@code name}, replacing what was there only once complete. */
  void upload(Path file, String name) throws IOException;

  /** Reads object {@code name} into {@code file} (written under a temporary name, then moved). */
  void download(String name, Path file) throws IOException;

  /** The names of all objects at or below {@code name} ("" for everything), sorted. */
  List<String> list(String name) throws IOException;

  /** {@link #list} with each object's size in bytes. */
  SortedMap<String, Long> sizes(String name) throws IOException;

  boolean exists(String name) throws IOException;

  void delete(String name) throws IOException;

  @Override
  void close();

  /**
   * Uploads every regular file under {@code folder} to {@code name}/relative/path, model_index.json
   * last.
   */
  default void uploadFolder(Path folder, String name) throws IOException {
    uploadFolder(folder, name, List.of(MODEL_INDEX));
  }

  /**
   * Uploads every regular file under {@code folder} to {@code name}/relative/path, the files {@code
   * commitLast} (relative paths) last and in that order. Objects cannot be renamed as a group, so
   * the last file is the commit: a reader that finds it finds everything else.
   */
  default void uploadFolder(Path folder, String name, List<String> commitLast) throws IOException {
    ObjectNames.check(name);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(folder)) {
      files = new ArrayList<>(walk.filter(Files::isRegularFile).sorted().toList());
    }
    for (String last : commitLast) {
      Path file = folder.resolve(last);
      if (files.remove(file)) {
        files.add(file);
      }
    }
    for (Path file : files) {
      String relative =
          folder.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
      upload(file, ObjectNames.join(name, relative));
    }
  }

  /**
   * Downloads every object at or below {@code name} into {@code folder}, keeping relative paths.
   */
  default void downloadFolder(String name, Path folder) throws IOException {
    ObjectNames.check(name);
    Path root = folder.toAbsolutePath().normalize();
    List<String> names = list(name);
    if (names.isEmpty()) {
      throw new StorageException(location().resolve(name) + ": no objects found", true);
    }
    for (String object : names) {
      String relative =
          name.isEmpty() ? object : object.substring(Math.min(object.length(), name.length() + 1));
      Path target = root.resolve(relative).normalize();
      if (relative.isEmpty() || !target.startsWith(root) || target.equals(root)) {
        throw new StorageException(
            location().resolve(name)
                + ": object '"
                + object
                + "' does not map to a file inside "
                + root,
            true);
      }
      Files.createDirectories(target.getParent());
      download(object, target);
    }
  }

  /**
   * The store for {@code uri}: S3 through {@code s3}, PVCs as their mount under {@code pvcRoot},
   * local folders as they are. {@code hf://} is a model source only, read by {@code
   * HubModelDownloader}: nothing is written there.
   */
  static ObjectStore open(StorageUri uri, S3Settings s3, Path pvcRoot) throws StorageException {
    switch (uri.scheme()) {
      case S3:
        return new S3ObjectStore(s3, uri);
      case PVC:
      case FILE:
        return new LocalObjectStore(uri, uri.localPath(pvcRoot));
      case HUGGING_FACE:
      default:
        throw new StorageException(
            uri
                + ": the Hugging Face Hub is a model source only; write the output to s3:// or"
                + " pvc://",
            true);
    }
  }
}
