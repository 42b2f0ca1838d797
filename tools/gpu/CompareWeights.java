import ai.djl.ndarray.NDManager;
import io.concepterasure.trainer.io.SafetensorsReader;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Compares two erased UNets trained from the same base with the same request on two devices
 * (tools/gpu/smoke.sh). Run with the trainer jar on the class path:
 *
 * <pre>java -cp trainer/target/trainer.jar tools/gpu/CompareWeights.java BASE A B LR ITERATIONS</pre>
 *
 * <p>Passes when (1) no weight differs by more than 2 x iterations x learning rate: Adam moves a
 * weight by about the learning rate per step whatever the gradient's scale, so two runs whose
 * updates disagreed at every step could be that far apart, and no further (a larger gap means a
 * wrong computation, not rounding); and (2) the two runs' updates (trained minus base) agree to 10%
 * in L2 norm: float32 kernels that differ by rounding (cuDNN's algorithms, TF32 convolutions on
 * Ampere and later) change the update a little, a device that computes something else changes it a
 * lot. Exit 0 pass, 1 fail.
 */
public class CompareWeights {
  public static void main(String[] args) throws Exception {
    Path base = Path.of(args[0]);
    Path a = Path.of(args[1]);
    Path b = Path.of(args[2]);
    double lr = Double.parseDouble(args[3]);
    int iterations = Integer.parseInt(args[4]);
    double maxAbs = 0;
    double diff2 = 0;
    double update2 = 0;
    String worst = "";
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsReader rb = SafetensorsReader.open(base);
        SafetensorsReader ra = SafetensorsReader.open(a);
        SafetensorsReader rr = SafetensorsReader.open(b)) {
      for (String name : ra.names()) {
        float[] x0 = rb.read(name, manager).toFloatArray();
        float[] x = ra.read(name, manager).toFloatArray();
        float[] y = rr.read(name, manager).toFloatArray();
        for (int i = 0; i < x.length; i++) {
          double d = Math.abs((double) x[i] - y[i]);
          if (d > maxAbs) {
            maxAbs = d;
            worst = name;
          }
          diff2 += d * d;
          double u = (double) x[i] - x0[i];
          update2 += u * u;
        }
      }
    }
    double bound = 2.0 * iterations * lr;
    double relative = update2 == 0 ? (diff2 == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff2 / update2);
    System.out.printf(
        Locale.ROOT,
        "max |a-b| %.3g (bound %.3g, in %s); |update a - update b| / |update a| %.3g (bound 0.1)%n",
        maxAbs,
        bound,
        worst,
        relative);
    System.exit(maxAbs <= bound && relative <= 0.1 && update2 > 0 ? 0 : 1);
  }
}
