// Peak resident memory that SafetensorsWriter adds while writing an SD 1.5-sized UNet (3.4 GB of
// fp32 tensors). Run with the trainer jar on the class path (docs/benchmarks.md):
//   java -Dai.djl.offline=true -cp trainer/target/trainer.jar tools/bench/WriterPeak.java /tmp/out
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.concepterasure.trainer.io.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

public class WriterPeak {
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "/tmp/writer-peak").resolve("unet.safetensors");
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      // 58 tensors of 1280x1280x3x3 (SD 1.5's largest): 3.42 GB, about the UNet's 3.44 GB.
      for (int i = 0; i < 58; i++) {
        tensors.put(String.format("block.%02d.weight", i), manager.ones(new Shape(1280, 1280, 3, 3)));
      }
      long loaded = kib("VmRSS");
      Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM to VmRSS
      long start = System.nanoTime();
      SafetensorsWriter.write(out, tensors, Map.of("format", "pt"));
      double seconds = (System.nanoTime() - start) / 1e9;
      long peak = kib("VmHWM");
      System.out.printf(
          "tensors %.2f GB, resident before %d MB, peak while writing %d MB (+%d MB), %.1f s%n",
          Files.size(out) / 1e9, loaded / 1024, peak / 1024, (peak - loaded) / 1024, seconds);
      Files.delete(out);
    }
  }

  static long kib(String field) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException(field);
  }
}
