package io.concepterasure.trainer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps Java values out of libtorch's memory except through {@link Tensors} (its class comment says
 * why: DJL wraps them in Java-owned buffers that garbage collection frees under autograd).
 *
 * <p>The rule is checked on the compiled classes: a class that calls one of DJL's number overloads
 * ({@code x.mul(0.5f)}, {@code manager.create(1f)}) or creates an array from a Java array holds
 * that method's descriptor in its constant pool.
 */
class TensorsRuleTest {
  private static final String NDARRAY = "Lai/djl/ndarray/NDArray;";
  private static final String SHAPE = "Lai/djl/ndarray/types/Shape;";

  /**
   * Descriptors of DJL methods that wrap Java memory; one with "(Number)NDArray" covers
   * mul/div/add/...
   */
  private static final List<String> FORBIDDEN =
      List.of(
          "(Ljava/lang/Number;)" + NDARRAY,
          "([F)" + NDARRAY,
          "([F" + SHAPE + ")" + NDARRAY,
          "([D)" + NDARRAY,
          "([D" + SHAPE + ")" + NDARRAY,
          // Not "([J)NDArray" / "([I)NDArray": reshape(long...) and transpose(int...) share them.
          "([J" + SHAPE + ")" + NDARRAY,
          "([I" + SHAPE + ")" + NDARRAY,
          "(F)" + NDARRAY,
          "(D)" + NDARRAY);

  /** Tensors is the one place; SafetensorsReader clones its staging buffer itself. */
  // NudeNet's arrays belong to the ONNX Runtime engine, which has no autograd for a collected Java
  // array to corrupt: the rule is about libtorch's.
  private static final List<String> ALLOWED =
      List.of("nn/Tensors.class", "io/SafetensorsReader", "evaluation/NudeNet.class");

  @Test
  void noClassButTensorsWrapsJavaMemory() throws IOException {
    Path classes = Path.of("target/classes/io/concepterasure/trainer");
    assertTrue(
        Files.isDirectory(classes), "compiled classes expected at " + classes.toAbsolutePath());
    Map<String, String> offenders = new TreeMap<>();
    int scanned = 0;
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file :
          (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        scanned++;
        String relative = classes.relativize(file).toString();
        if (ALLOWED.stream().anyMatch(relative::startsWith)) {
          continue;
        }
        // Constant-pool strings of plain ASCII are stored as is; ISO-8859-1 maps bytes one to one.
        String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        for (String descriptor : FORBIDDEN) {
          if (bytes.contains(descriptor)) {
            offenders.merge(relative, descriptor, (a, b) -> a + ", " + b);
          }
        }
      }
    }
    assertTrue(scanned > 50, "scanned only " + scanned + " classes");
    assertEquals(
        Map.of(),
        offenders,
        "these classes call DJL methods that wrap Java memory; use nn.Tensors (create, scalar, mul, ...)");
  }

  @Test
  void scalarsAreTypedAsDjlTypesJavaNumbers() {
    try (NDManager manager = NDManager.newBaseManager()) {
      assertEquals(DataType.FLOAT32, Tensors.scalar(manager, 1f).getDataType());
      assertEquals(DataType.FLOAT64, Tensors.scalar(manager, 1d).getDataType());
      assertEquals(DataType.INT32, Tensors.scalar(manager, 1).getDataType());
      assertEquals(DataType.INT64, Tensors.scalar(manager, 1L).getDataType());
      NDArray x = manager.arange(4f);
      assertEquals(List.of(0f, 2.5f, 5f, 7.5f), boxed(Tensors.mul(x, 2.5f).toFloatArray()));
      assertEquals(List.of(-1f, 0f, 1f, 2f), boxed(Tensors.sub(x, 1).toFloatArray()));
      assertEquals(List.of(1f, 1f, 2f, 3f), boxed(Tensors.maximum(x, 1f).toFloatArray()));
    }
  }

  @Test
  void aGradientThroughANumberSurvivesGarbageCollection() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.ones(new Shape(64));
      x.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray y = Tensors.mul(x, 3f).sum();
        // What used to happen between forward and backward: a collection frees the number's
        // buffer, and new allocations of that size reuse the memory.
        for (int i = 0; i < 20; i++) {
          System.gc();
          for (int j = 0; j < 1000; j++) {
            ByteBuffer.allocateDirect(4).putFloat(0, Float.NaN);
          }
        }
        collector.backward(y);
      }
      float[] gradient = x.getGradient().toFloatArray();
      for (float g : gradient) {
        assertEquals(3f, g);
      }
    }
  }

  private static List<Float> boxed(float[] values) {
    Float[] out = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return List.of(out);
  }
}
