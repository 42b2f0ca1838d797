package io.concepterasure.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Objects as files under a folder: a mounted PersistentVolumeClaim or a local path. Writes go to a
 * temporary file in the target folder and are moved into place, so readers never see half a file.
 */
public final class LocalObjectStore implements ObjectStore {
  private final StorageUri location;
  private final Path root;

  public LocalObjectStore(StorageUri location, Path root) {
    this.location = location;
    this.root = root.toAbsolutePath().normalize();
  }

  @Override
  public StorageUri location() {
    return location;
  }

  private Path path(String name) {
    String checked = ObjectNames.check(name);
    return checked.isEmpty() ? root : root.resolve(checked);
  }

  @Override
  public void upload(Path file, String name) throws IOException {
    copyAtomically(file, path(name));
  }

  @Override
  public void download(String name, Path file) throws IOException {
    Path source = path(name);
    if (!Files.isRegularFile(source)) {
      throw new StorageException(
          location.resolve(name) + ": no such object (" + source + ")", true);
    }
    copyAtomically(source, file);
  }

  @Override
  public List<String> list(String name) throws IOException {
    return new ArrayList<>(sizes(name).keySet());
  }

  @Override
  public SortedMap<String, Long> sizes(String name) throws IOException {
    Path start = path(name);
    SortedMap<String, Long> sizes = new TreeMap<>();
    if (Files.isRegularFile(start)) {
      sizes.put(name, Files.size(start));
      return sizes;
    }
    if (!Files.isDirectory(start)) {
      return sizes;
    }
    try (Stream<Path> walk = Files.walk(start)) {
      for (Path p :
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().endsWith(".partial"))
              .toList()) {
        sizes.put(
            root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/"),
            Files.size(p));
      }
    }
    return sizes;
  }

  @Override
  public boolean exists(String name) {
    return Files.isRegularFile(path(name));
  }

  @Override
  public void delete(String name) throws IOException {
    Files.deleteIfExists(path(name));
  }

  @Override
  public void close() {}

  private static void copyAtomically(Path source, Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial");
    try {
      Files.copy(source, temp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (NoSuchFileException e) {
      Files.deleteIfExists(temp);
      throw new StorageException(source + ": no such file", true, e);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
  }
}
