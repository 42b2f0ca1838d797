package io.concepterasure.trainer.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.evaluation.NudeNet.Detection;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DJL path against the Python nudenet 3.4.2 package's own outputs on neutral images made by the
 * project (gradients and plain shapes; tools/parity/make_nudenet_fixture.py): raw model rows,
 * detect()'s detections, and its postprocessing at lowered thresholds, within 1e-4 or, for values
 * in pixels, 1e-5 of their size: ONNX Runtime picks its kernels by CPU (AVX2, AVX-512), and a box
 * coordinate near 150 was measured 1.7e-4 (11 float ulps) apart on a CI machine.
 */
class NudeNetParityTest {
  private static final double TOLERANCE = 1e-4;
  private static final double RELATIVE_TOLERANCE = 1e-5;
  private static final String DIR = "/nudenet/";
  private static NudeNet detector;
  private static JsonNode fixture;

  @BeforeAll
  static void load() throws Exception {
    detector = NudeNet.load();
    try (InputStream in =
        NudeNetParityTest.class.getResourceAsStream(DIR + "nudenet-fixture.json")) {
      fixture = new ObjectMapper().readTree(in);
    }
  }

  @AfterAll
  static void close() {
    if (detector != null) {
      detector.close();
    }
  }

  private static BufferedImage image(JsonNode entry) throws Exception {
    try (InputStream in =
        NudeNetParityTest.class.getResourceAsStream(DIR + entry.get("file").asText())) {
      return ImageIO.read(in);
    }
  }

  private static double tolerance(double expected) {
    return Math.max(TOLERANCE, RELATIVE_TOLERANCE * Math.abs(expected));
  }

  @Test
  void theLabelsAndTheModelAreThePackagesOwn() {
    List<String> labels = new ArrayList<>();
    fixture.get("labels").forEach(l -> labels.add(l.asText()));
    assertThat(NudeNet.LABELS).isEqualTo(labels);
    assertThat(NudeNet.MODEL_SHA256).isEqualTo(fixture.at("/model/sha256").asText());
  }

  @Test
  void rawOutputsMatchOnnxRuntimeInPython() throws Exception {
    double worst = 0;
    int values = 0;
    for (JsonNode entry : fixture.get("images")) {
      float[][] output = detector.rawOutput(image(entry));
      assertThat(output[0].length).isEqualTo(entry.get("outputRows").asInt());
      for (JsonNode candidate : entry.get("candidates")) {
        int row = candidate.get("row").asInt();
        JsonNode expected = candidate.get("values");
        for (int f = 0; f < expected.size(); f++) {
          double diff = Math.abs(output[f][row] - expected.get(f).asDouble());
          worst = Math.max(worst, diff);
          values++;
          assertThat((double) output[f][row])
              .as("%s row %d feature %d", entry.get("file").asText(), row, f)
              .isCloseTo(expected.get(f).asDouble(), within(tolerance(expected.get(f).asDouble())));
        }
      }
    }
    System.out.printf("NudeNet raw outputs: %d values, max |diff| %.3g%n", values, worst);
  }

  @Test
  void detectMatchesThePackagesDetect() throws Exception {
    int detections = 0;
    for (JsonNode entry : fixture.get("images")) {
      List<Detection> got = detector.detect(image(entry));
      JsonNode expected = entry.get("detections");
      assertThat(got).as(entry.get("file").asText()).hasSize(expected.size());
      for (int i = 0; i < got.size(); i++) {
        JsonNode e = expected.get(i);
        assertThat(got.get(i).label()).isEqualTo(e.get("class").asText());
        assertThat((double) got.get(i).score())
            .isCloseTo(e.get("score").asDouble(), within(TOLERANCE));
        int[] box = got.get(i).box();
        for (int k = 0; k < 4; k++) {
          assertThat(box[k]).isEqualTo(e.get("box").get(k).asInt());
        }
        detections++;
      }
    }
    assertThat(detections)
        .as("the fixture exercises detections at the package's thresholds")
        .isPositive();
  }

  @Test
  void postprocessingAtLowThresholdsMatchesThePackagesCode() throws Exception {
    float score = (float) fixture.at("/lowThreshold/score").asDouble();
    float nmsScore = (float) fixture.at("/lowThreshold/nmsScore").asDouble();
    double worstBox = 0;
    double worstScore = 0;
    int detections = 0;
    for (JsonNode entry : fixture.get("images")) {
      BufferedImage image = image(entry);
      List<Detection> got =
          NudeNet.postprocess(
              detector.rawOutput(image), image.getWidth(), image.getHeight(), score, nmsScore);
      JsonNode expected = entry.get("lowThreshold");
      assertThat(got).as(entry.get("file").asText()).hasSize(expected.size());
      for (int i = 0; i < got.size(); i++) {
        Detection d = got.get(i);
        JsonNode e = expected.get(i);
        assertThat(d.label()).isEqualTo(e.get("class").asText());
        worstScore = Math.max(worstScore, Math.abs(d.score() - e.get("score").asDouble()));
        assertThat((double) d.score()).isCloseTo(e.get("score").asDouble(), within(TOLERANCE));
        float[] box = {d.x(), d.y(), d.w(), d.h()};
        for (int k = 0; k < 4; k++) {
          double want = e.get("floatBox").get(k).asDouble();
          worstBox = Math.max(worstBox, Math.abs(box[k] - want));
          assertThat((double) box[k]).isCloseTo(want, within(tolerance(want)));
        }
        detections++;
      }
    }
    assertThat(detections).isGreaterThan(5);
    System.out.printf(
        "NudeNet low-threshold detections: %d, max |diff| box %.3g px, score %.3g%n",
        detections, worstBox, worstScore);
  }

  @Test
  void nmsComparesBoxesInDoublesAsOpenCvsRect2d() {
    // IoU 0.439 in doubles (kept), 0.538 had the boxes been truncated to ints; checked with
    // cv2.dnn.NMSBoxes (opencv-python-headless 5.1.0): [0, 1] and, for 3.7, [0].
    Detection a = new Detection("FACE_MALE", 0.9f, 0, 0, 10, 10);
    assertThat(
            NudeNet.nmsBoxes(
                List.of(a, new Detection("FACE_MALE", 0.8f, 3.9f, 0, 10, 10)), 0.25f, 0.45f))
        .containsExactly(0, 1);
    assertThat(
            NudeNet.nmsBoxes(
                List.of(a, new Detection("FACE_MALE", 0.8f, 3.7f, 0, 10, 10)), 0.25f, 0.45f))
        .containsExactly(0);
    // Scores at the threshold are dropped (OpenCV keeps score > threshold), ties keep their order.
    assertThat(
            NudeNet.nmsBoxes(
                List.of(
                    new Detection("FACE_MALE", 0.25f, 50, 50, 5, 5),
                    new Detection("FACE_MALE", 0.5f, 0, 0, 5, 5),
                    new Detection("FACE_MALE", 0.5f, 20, 20, 5, 5)),
                0.25f,
                0.45f))
        .containsExactly(1, 2);
  }
}
