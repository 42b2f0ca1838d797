package io.concepterasure.trainer.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.io.SafetensorsWriter.RawTensor;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import io.concepterasure.trainer.nn.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictLoaderTest {
  private static NDManager manager;

  @TempDir Path dir;

  @BeforeAll
  static void engine() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void closeEngine() {
    manager.close();
  }

  /** A stand-in with the naming of a diffusers block: a conv and a list of norms. */
  static final class Block extends Module {
    final Parameter convWeight;
    final ModuleList<Norm> norms;

    Block(int in, int out) {
      Conv conv = child("conv1", new Conv(in, out));
      convWeight = conv.weight;
      norms = child("norms", new ModuleList<>());
      norms.add(new Norm(out));
      norms.add(new Norm(out));
    }
  }

  static final class Conv extends Module {
    final Parameter weight;
    final Parameter bias;

    Conv(int in, int out) {
      weight = parameter("weight", new Parameter(new Shape(out, in, 3, 3)));
      bias = parameter("bias", new Parameter(new Shape(out)));
    }
  }

  static final class Norm extends Module {
    Norm(int channels) {
      parameter("weight", new Parameter(new Shape(channels)));
      parameter("bias", new Parameter(new Shape(channels)));
    }
  }

  private static void fill(Module module, float start) {
    float next = start;
    for (Parameter p : module.namedParameters().values()) {
      long n = p.shape().size();
      p.set(manager.arange(next, next + n).reshape(p.shape()));
      next += n;
    }
  }

  @Test
  void savedModuleLoadsBackIntoAFreshOne() throws IOException {
    Block saved = new Block(4, 8);
    fill(saved, 0.5f);
    Path file = dir.resolve("diffusion_pytorch_model.safetensors");
    StateDictWriter.save(saved, file);

    try (SafetensorsReader reader = SafetensorsReader.open(file)) {
      assertThat(reader.names())
          .containsExactlyInAnyOrder(
              "conv1.weight",
              "conv1.bias",
              "norms.0.weight",
              "norms.0.bias",
              "norms.1.weight",
              "norms.1.bias");
      assertThat(reader.metadata()).isEqualTo(Map.of("format", "pt"));
    }
    Block loaded = new Block(4, 8);
    StateDictLoader.load(loaded, file, manager, DataType.FLOAT32);
    saved
        .namedParameters()
        .forEach(
            (name, p) ->
                assertThat(loaded.namedParameters().get(name).array().toFloatArray())
                    .as(name)
                    .containsExactly(p.array().toFloatArray()));

    // Half precision on request, converted while loading.
    Block half = new Block(4, 8);
    StateDictLoader.load(half, file, manager, DataType.FLOAT16);
    assertThat(half.convWeight.array().getDataType()).isEqualTo(DataType.FLOAT16);
    assertThat(half.convWeight.array().toType(DataType.FLOAT32, false).toFloatArray())
        .containsExactly(
            saved.convWeight.array().toFloatArray()); // small integers + 0.5 are exact in F16
  }

  @Test
  void reportsEveryMissingExtraAndMisShapedTensorTogether() throws IOException {
    Block other = new Block(2, 8); // conv1.weight is [8, 2, 3, 3]
    fill(other, 0);
    Path file = dir.resolve("diffusion_pytorch_model.safetensors");
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    other
        .namedParameters()
        .forEach(
            (name, p) -> {
              if (!name.equals("norms.1.bias")) {
                tensors.put(name, p.array());
              }
            });
    tensors.put("norms.2.weight", manager.ones(new Shape(8)));
    SafetensorsWriter.write(file, tensors, null);

    Block target = new Block(4, 8);
    fill(target, 100);
    float[] before = target.convWeight.array().toFloatArray();
    assertThatThrownBy(() -> StateDictLoader.load(target, file, manager, DataType.FLOAT32))
        .isInstanceOf(SafetensorsException.class)
        .hasMessage(
            file
                + ": 3 problems loading into Block:\n"
                + "  tensor 'conv1.weight' expected shape [8, 4, 3, 3] but file has [8, 2, 3, 3]\n"
                + "  missing tensor 'norms.1.bias' (expected shape [8])\n"
                + "  unexpected tensor 'norms.2.weight' of shape [8] (the module has no such parameter)");
    assertThat(target.convWeight.array().toFloatArray()).containsExactly(before);
  }

  @Test
  void ignoresUnexpectedTensorsOnlyWhenAsked() throws IOException {
    Block saved = new Block(1, 2);
    fill(saved, 0);
    Path file = dir.resolve("model.safetensors");
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    saved.namedParameters().forEach((name, p) -> tensors.put(name, p.array()));
    tensors.put("position_ids", manager.arange(0, 77, 1, DataType.INT64));
    SafetensorsWriter.write(file, tensors, null);

    assertThatThrownBy(() -> StateDictLoader.load(new Block(1, 2), file, manager, DataType.FLOAT32))
        .hasMessageContaining("unexpected tensor 'position_ids' of shape [77]");
    Block loaded = new Block(1, 2);
    StateDictLoader.load(
        loaded, file, manager, DataType.FLOAT32, name -> name.endsWith("position_ids"));
    assertThat(loaded.convWeight.array().toFloatArray())
        .containsExactly(saved.convWeight.array().toFloatArray());
  }

  @Test
  void loadsBf16CheckpointsAsFloat32() throws IOException {
    Conv conv = new Conv(1, 1);
    short[] weight = new short[9];
    for (int i = 0; i < 9; i++) {
      weight[i] = HalfPrecision.floatToBf16(i - 4.25f);
    }
    Path file = dir.resolve("bf16.safetensors");
    SafetensorsWriter.writeRaw(
        file,
        List.of(
            new RawTensor(
                "weight",
                SafetensorsDtype.BF16,
                new long[] {1, 1, 3, 3},
                SafetensorsFiles.shorts(weight)),
            new RawTensor(
                "bias",
                SafetensorsDtype.BF16,
                new long[] {1},
                SafetensorsFiles.shorts(HalfPrecision.floatToBf16(0.5f)))),
        null);
    StateDictLoader.load(conv, file, manager, DataType.FLOAT32);
    assertThat(conv.weight.array().toFloatArray())
        .containsExactly(-4.25f, -3.25f, -2.25f, -1.25f, -0.25f, 0.75f, 1.75f, 2.75f, 3.75f);
    assertThat(conv.bias.array().toFloatArray()).containsExactly(0.5f);
  }

  @Test
  void refusesToSaveUninitialisedParametersAndWritesNothing() {
    Block block = new Block(1, 2);
    Path file = dir.resolve("never.safetensors");
    assertThatThrownBy(() -> StateDictWriter.save(block, file))
        .hasMessage(
            file
                + ": parameter 'conv1.weight' of Block was never initialised or loaded; nothing written");
    assertThat(Files.exists(file)).isFalse();
  }
}
