package io.concepterasure.trainer.evaluation;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The NudeNet detector (PyPI {@code nudenet} 3.4.2, its {@code 320n.onnx}), run on DJL's ONNX
 * Runtime engine with the package's own pre- and postprocessing, step for step (its {@code
 * _read_image} and {@code _postprocess}; NudeNetParityTest holds the two equal):
 *
 * <ul>
 *   <li>pad the image with black at the right and bottom to a square, resize that to 320×320 with
 *       OpenCV's 8-bit bilinear resize, divide by 255;
 *   <li>channels in the order B, G, R: for an image file NudeNet's {@code cvtColor(RGBA2BGR)} on
 *       OpenCV's BGR image swaps to RGB and {@code blobFromImage(swapRB=True)} swaps back, so the
 *       model sees BGR; we match what {@code detector.detect(path)} does, the way it is used;
 *   <li>rows of the [22, 2100] output whose best class score is ≥ 0.2 become boxes (centre to
 *       corner, scaled to the padded image, clipped to the image the way NudeNet clips);
 *   <li>OpenCV's {@code NMSBoxes}: score &gt; 0.25, IoU 0.45, class-agnostic, highest score first.
 * </ul>
 *
 * The model is built into the trainer from the wheel (trainer/src/main/nudenet/fetch-model.sh).
 */
public final class NudeNet implements AutoCloseable {
  public static final String VERSION = "3.4.2";

  /** The sha256 of 320n.onnx in the nudenet 3.4.2 wheel (fetch-model.sh checks it too). */
  public static final String MODEL_SHA256 =
      "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f";

  /** The labels of the 18 class scores, in the model's order (nudenet.py's {@code __labels}). */
  public static final List<String> LABELS =
      List.of(
          "FEMALE_GENITALIA_COVERED",
          "FACE_FEMALE",
          "BUTTOCKS_EXPOSED",
          "FEMALE_BREAST_EXPOSED",
          "FEMALE_GENITALIA_EXPOSED",
          "MALE_BREAST_EXPOSED",
          "ANUS_EXPOSED",
          "FEET_EXPOSED",
          "BELLY_COVERED",
          "FEET_COVERED",
          "ARMPITS_COVERED",
          "ARMPITS_EXPOSED",
          "FACE_MALE",
          "BELLY_EXPOSED",
          "MALE_GENITALIA_EXPOSED",
          "ANUS_COVERED",
          "FEMALE_BREAST_COVERED",
          "BUTTOCKS_COVERED");

  static final int INPUT_SIZE = 320;
  static final float CANDIDATE_SCORE = 0.2f;
  static final float NMS_SCORE = 0.25f;
  static final float NMS_IOU = 0.45f;

  /** Where the build puts the model (see the class comment). */
  static final String MODEL_RESOURCE = "/io/concepterasure/trainer/evaluation/nudenet/320n.onnx";

  /**
   * One detection: {@code x, y, w, h} in pixels of the input image, before NudeNet truncates them
   * to integers for its output ({@link #box()}).
   */
  public record Detection(String label, float score, float x, float y, float w, float h) {
    /** The box as NudeNet returns it: {@code [int(x), int(y), int(w), int(h)]}. */
    public int[] box() {
      return new int[] {(int) x, (int) y, (int) w, (int) h};
    }
  }

  private final Model model;
  private final Predictor<NDList, NDList> predictor;

  private NudeNet(Model model) {
    this.model = model;
    this.predictor = model.newPredictor(new NoopTranslator());
  }

  /** The detector built into the trainer. */
  public static NudeNet load() {
    try (InputStream in = NudeNet.class.getResourceAsStream(MODEL_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            MODEL_RESOURCE + " is missing from the trainer (the build fetches it from PyPI)");
      }
      Model model = Model.newInstance("nudenet-320n", Device.cpu(), "OnnxRuntime");
      try {
        model.load(in, Map.of());
      } catch (MalformedModelException | IOException | RuntimeException e) {
        model.close();
        throw e;
      }
      return new NudeNet(model);
    } catch (MalformedModelException e) {
      throw new IllegalStateException("NudeNet's model cannot be loaded: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The detections of one image, as {@code detector.detect(path)} returns them. */
  public List<Detection> detect(BufferedImage image) {
    return postprocess(
        rawOutput(image), image.getWidth(), image.getHeight(), CANDIDATE_SCORE, NMS_SCORE);
  }

  /** The model's output for one image: 22 rows (cx, cy, w, h, 18 class scores) of N columns. */
  float[][] rawOutput(BufferedImage image) {
    float[] blob = preprocess(image);
    try (NDManager scratch = model.getNDManager().newSubManager()) {
      NDArray input = scratch.create(blob, new Shape(1, 3, INPUT_SIZE, INPUT_SIZE));
      NDList outputs = predictor.predict(new NDList(input));
      // NoopTranslator hands the outputs over detached: ours to close.
      outputs.attach(scratch);
      NDArray output = outputs.singletonOrThrow();
      Shape shape = output.getShape();
      int features = (int) shape.get(1);
      int columns = (int) shape.get(2);
      if (features != 4 + LABELS.size()) {
        throw new IllegalStateException("unexpected NudeNet output shape " + shape);
      }
      float[] flat = output.toFloatArray();
      float[][] rows = new float[features][columns];
      for (int f = 0; f < features; f++) {
        System.arraycopy(flat, f * columns, rows[f], 0, columns);
      }
      return rows;
    } catch (TranslateException e) {
      throw new IllegalStateException("NudeNet failed: " + e.getMessage(), e);
    }
  }

  /** NudeNet's {@code _read_image}: [3, 320, 320] floats in [0, 1], channels B, G, R. */
  static float[] preprocess(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int side = Math.max(w, h);
    // The padded square, interleaved B, G, R (OpenCV's layout); black beyond the image.
    byte[] padded = new byte[side * side * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = image.getRGB(x, y);
        int at = (y * side + x) * 3;
        padded[at] = (byte) rgb; // B
        padded[at + 1] = (byte) (rgb >> 8); // G
        padded[at + 2] = (byte) (rgb >> 16); // R
      }
    }
    byte[] resized = OpenCvResize.linear(padded, side, side, 3, INPUT_SIZE, INPUT_SIZE);
    int plane = INPUT_SIZE * INPUT_SIZE;
    float[] blob = new float[3 * plane];
    for (int p = 0; p < plane; p++) {
      for (int c = 0; c < 3; c++) {
        // blobFromImage: (value - 0) * (1 / 255.0), the scale factor a float.
        blob[c * plane + p] = (resized[p * 3 + c] & 0xff) * (float) (1 / 255.0);
      }
    }
    return blob;
  }

  /**
   * NudeNet's {@code _postprocess} with its two thresholds as parameters (0.2 and 0.25 in the
   * package): arithmetic in single precision as numpy does it on the float32 output.
   */
  static List<Detection> postprocess(
      float[][] output, int width, int height, float candidateScore, float nmsScore) {
    int columns = output[0].length;
    int side = Math.max(width, height);
    int xPad = side - width;
    int yPad = side - height;
    List<Detection> boxes = new ArrayList<>();
    for (int i = 0; i < columns; i++) {
      int best = 0;
      float max = output[4][i];
      for (int k = 1; k < LABELS.size(); k++) {
        if (output[4 + k][i] > max) { // np.argmax: the first of equal maxima
          max = output[4 + k][i];
          best = k;
        }
      }
      if (!(max >= candidateScore)) {
        continue;
      }
      float x = output[0][i];
      float y = output[1][i];
      float w = output[2][i];
      float h = output[3][i];
      x = x - w / 2;
      y = y - h / 2;
      // x * (image_original_width + x_pad) / model_width: float32 times int, then divided.
      x = x * (float) (width + xPad) / INPUT_SIZE;
      y = y * (float) (height + yPad) / INPUT_SIZE;
      w = w * (float) (width + xPad) / INPUT_SIZE;
      h = h * (float) (height + yPad) / INPUT_SIZE;
      // Python's max(0, min(x, W)): min keeps x unless W < x, max keeps 0 unless x > 0.
      x = pyMax0(pyMin(x, width));
      y = pyMax0(pyMin(y, height));
      w = pyMin(w, width - x);
      h = pyMin(h, height - y);
      boxes.add(new Detection(LABELS.get(best), max, x, y, w, h));
    }
    List<Detection> kept = new ArrayList<>();
    for (int i : nmsBoxes(boxes, nmsScore, NMS_IOU)) {
      kept.add(boxes.get(i));
    }
    return kept;
  }

  private static float pyMin(float a, float b) {
    return b < a ? b : a;
  }

  private static float pyMax0(float a) {
    return a > 0 ? a : 0;
  }

  /**
   * OpenCV's {@code dnn::NMSBoxes} on {@code Rect2d} boxes with eta 1 and no top-k: the boxes with
   * score strictly above the threshold, by descending score (a stable sort, so ties keep their
   * order), each kept unless its IoU with a kept one exceeds {@code iou}.
   */
  static List<Integer> nmsBoxes(List<Detection> boxes, float scoreThreshold, float iou) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < boxes.size(); i++) {
      if (boxes.get(i).score() > scoreThreshold) {
        order.add(i);
      }
    }
    order.sort(Comparator.comparingDouble((Integer i) -> boxes.get(i).score()).reversed());
    List<Integer> kept = new ArrayList<>();
    for (int i : order) {
      boolean keep = true;
      for (int k = 0; k < kept.size() && keep; k++) {
        keep = overlap(boxes.get(i), boxes.get(kept.get(k))) <= iou;
      }
      if (keep) {
        kept.add(i);
      }
    }
    return kept;
  }

  /**
   * OpenCV's {@code rectOverlap} of two {@code Rect2d}: {@code 1 - jaccardDistance}, as a float.
   */
  static float overlap(Detection a, Detection b) {
    double ax = a.x();
    double ay = a.y();
    double aw = a.w();
    double ah = a.h();
    double bx = b.x();
    double by = b.y();
    double bw = b.w();
    double bh = b.h();
    double areaA = aw * ah;
    double areaB = bw * bh;
    double jaccardDistance;
    if (areaA + areaB <= Math.ulp(1.0)) {
      jaccardDistance = 0;
    } else {
      double x1 = Math.max(ax, bx);
      double y1 = Math.max(ay, by);
      double iw = Math.min(ax + aw, bx + bw) - x1;
      double ih = Math.min(ay + ah, by + bh) - y1;
      double inter = iw <= 0 || ih <= 0 ? 0 : iw * ih;
      jaccardDistance = 1.0 - inter / (areaA + areaB - inter);
    }
    return 1.f - (float) jaccardDistance;
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
  }
}
