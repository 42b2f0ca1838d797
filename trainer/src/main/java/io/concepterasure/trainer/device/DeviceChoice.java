package io.concepterasure.trainer.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device the trainer computes on, chosen explicitly ({@code --device auto|cpu|cuda[:N]}) and
 * never by DJL's silent default: a Job that asked for a GPU and sees none fails at once, naming the
 * cause, instead of training on the node's CPU for days with the GPU reserved and idle.
 *
 * @param device the DJL device
 * @param name {@code cpu} or {@code cuda:N}, as logged and written to erasure.json
 */
public record DeviceChoice(Device device, String name) {
  /**
   * The number of GPUs the Job requested ({@code nvidia.com/gpu}); the operator sets it from
   * resources.gpus. Unset or 0: none requested.
   */
  public static final String GPUS_ENV = "CE_GPUS";

  private static final Pattern SPEC = Pattern.compile("auto|cpu|cuda(?::(\\d{1,3}))?");

  /**
   * What this process can compute on.
   *
   * @param cudaBuild libtorch was built with CUDA (the {@code -cuda} image), not the CPU build
   * @param visibleGpus the NVIDIA GPUs the CUDA runtime sees (0 without a driver or device)
   */
  public record Runtime(boolean cudaBuild, int visibleGpus) {
    /** The loaded engine's (loads libtorch). */
    public static Runtime of(Engine engine) {
      // libtorch reports CUDA only where a driver is: on a node without one, the CUDA flavour is
      // known by the libraries it loads (PYTORCH_LIBRARY_PATH, tools/images/trainer-cuda.sh).
      boolean cuda =
          engine.hasCapability(StandardCapabilities.CUDA)
              || cudaLibraries(System.getenv("PYTORCH_LIBRARY_PATH"));
      return new Runtime(cuda, cuda ? engine.getGpuCount() : 0);
    }

    static boolean cudaLibraries(String libraryPath) {
      return libraryPath != null
          && !libraryPath.isBlank()
          && Files.isRegularFile(Path.of(libraryPath, "libtorch_cuda.so"));
    }
  }

  /** The device wanted but unavailable, or the flag malformed: invalid input (exit 2). */
  public static final class UnavailableException extends Exception {
    UnavailableException(String message) {
      super(message);
    }
  }

  /** {@link #choose} with the GPUs requested through {@link #GPUS_ENV} and the loaded engine. */
  public static DeviceChoice choose(String spec, Map<String, String> environment)
      throws UnavailableException {
    int requested = gpusRequested(environment);
    return choose(spec, requested, Runtime.of(Engine.getInstance()));
  }

  /**
   * @param spec {@code auto} (a GPU if the Job asked for one or one is visible, else the CPU),
   *     {@code cpu}, {@code cuda} or {@code cuda:N}
   * @param gpusRequested GPUs the Job requested (0: none)
   */
  public static DeviceChoice choose(String spec, int gpusRequested, Runtime runtime)
      throws UnavailableException {
    Matcher m = SPEC.matcher(spec == null ? "auto" : spec.trim());
    if (!m.matches()) {
      throw new UnavailableException(
          "--device: expected auto, cpu, cuda or cuda:N, got '" + spec + "'");
    }
    String kind = m.group().startsWith("cuda") ? "cuda" : m.group();
    switch (kind) {
      case "cpu":
        return new DeviceChoice(Device.cpu(), "cpu");
      case "cuda":
        int index = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
        if (runtime.visibleGpus() <= index) {
          throw new UnavailableException(
              "--device "
                  + m.group()
                  + " but "
                  + (runtime.visibleGpus() == 0
                      ? "no GPU is visible: " + cause(runtime)
                      : "only " + runtime.visibleGpus() + " GPU(s) are visible"));
        }
        return new DeviceChoice(Device.gpu(index), "cuda:" + index);
      default: // auto
        if (runtime.visibleGpus() > 0) {
          return new DeviceChoice(Device.gpu(0), "cuda:0");
        }
        if (gpusRequested > 0) {
          throw new UnavailableException(
              "the Job requested "
                  + gpusRequested
                  + " GPU(s) (resources.gpus) but no GPU is visible: "
                  + cause(runtime));
        }
        return new DeviceChoice(Device.cpu(), "cpu");
    }
  }

  static int gpusRequested(Map<String, String> environment) throws UnavailableException {
    String value = environment.get(GPUS_ENV);
    if (value == null || value.isBlank()) {
      return 0;
    }
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UnavailableException(GPUS_ENV + ": expected a number of GPUs, got '" + value + "'");
    }
  }

  private static String cause(Runtime runtime) {
    return runtime.cudaBuild()
        ? "the CUDA runtime finds no NVIDIA device (no driver or device in the container: is the"
            + " node's NVIDIA device plugin and container runtime set up?)"
        : "this is the CPU image (its libtorch is PyTorch's CPU build); GPU Jobs need the -cuda"
            + " image (concepterasure.trainer-gpu-image)";
  }
}
