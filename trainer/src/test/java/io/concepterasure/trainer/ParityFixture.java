package io.concepterasure.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.concepterasure.trainer.io.SafetensorsReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * The diffusers-made fixtures under {@code src/test/resources/parity} (see its README): a tiny
 * Stable Diffusion folder per model and {@code io.safetensors} with inputs and expected outputs.
 */
public final class ParityFixture implements AutoCloseable {
  private final Path dir;
  private final SafetensorsReader io;

  private ParityFixture(Path dir) throws IOException {
    this.dir = dir;
    this.io = SafetensorsReader.open(dir.resolve("io.safetensors"));
  }

  /** The root of the fixtures: {@code parity/} on the test classpath. */
  public static Path root() {
    URL url = ParityFixture.class.getClassLoader().getResource("parity/MANIFEST.json");
    if (url == null) {
      throw new IllegalStateException("parity fixtures are missing from the test classpath");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param model {@code sd1-tiny} or {@code sd2-tiny}
   */
  public static ParityFixture open(String model) {
    try {
      return new ParityFixture(root().resolve(model));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The diffusers pipeline folder. */
  public Path dir() {
    return dir;
  }

  public NDArray tensor(String name, NDManager manager) {
    try {
      return io.read(name, manager);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** max |a - b| over all elements, after checking the shapes agree. */
  public static float maxAbsDiff(NDArray actual, NDArray expected) {
    if (!actual.getShape().equals(expected.getShape())) {
      throw new AssertionError(
          "shape " + actual.getShape() + " differs from expected " + expected.getShape());
    }
    return actual.sub(expected).abs().max().getFloat();
  }

  @Override
  public void close() throws IOException {
    io.close();
  }
}
