package io.concepterasure.trainer.evaluation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.concepterasure.trainer.diffusion.scheduler.DdimScheduler;
import io.concepterasure.trainer.diffusion.unet.UNet2DConditionModel;
import io.concepterasure.trainer.pipeline.ImageGrid;
import io.concepterasure.trainer.pipeline.StableDiffusionPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * evaluation.png and the numbers erasure.json reports about it: the same prompts drawn by the
 * original and the erased UNet from the same seeds.
 */
public final class EvaluationReport {
  /** SSIM's 11×11 window needs images at least this wide. */
  private static final int MIN_SSIM_SIDE = 11;

  private EvaluationReport() {}

  /**
   * Renders {@code prompts} with the original and the erased UNet from the same seeds: one row per
   * prompt, for each seed the original image then the erased one. Reports, per prompt, the mean
   * squared pixel change, the SSIM and, with a judge, what it sees before and after; with a
   * detector, its detection rates per prompt and over all images ({@code detector}).
   */
  public static Map<String, Object> write(
      StableDiffusionPipeline original,
      UNet2DConditionModel erasedUnet,
      List<String> prompts,
      List<Long> seedList,
      int steps,
      float guidance,
      NDManager manager,
      Path png,
      Optional<ImageJudge> judge,
      Optional<EvaluationDetector> detector)
      throws IOException {
    long[] seeds = seedList.stream().mapToLong(Long::longValue).toArray();
    int size = original.defaultImageSize();
    StableDiffusionPipeline erased =
        new StableDiffusionPipeline(
            original.tokenizer(),
            original.textEncoder(),
            erasedUnet,
            original.vae(),
            new DdimScheduler(original.scheduler().config()),
            size / original.vae().scaleFactor());
    Map<String, Object> perPrompt = new LinkedHashMap<>();
    List<BufferedImage> tiles = new ArrayList<>();
    Map<String, Object> detectorReport = null;
    try (NDManager scratch = manager.newSubManager()) {
      NDArray before = original.generate(scratch, prompts, seeds, size, size, steps, guidance);
      NDArray after = erased.generate(scratch, prompts, seeds, size, size, steps, guidance);
      List<BufferedImage> beforeImages = ImageGrid.toImages(before);
      List<BufferedImage> afterImages = ImageGrid.toImages(after);
      Optional<List<String>> labelsBefore = judge.map(j -> j.labels(before));
      Optional<List<String>> labelsAfter = judge.map(j -> j.labels(after));
      List<List<NudeNet.Detection>> detectedBefore = List.of();
      List<List<NudeNet.Detection>> detectedAfter = List.of();
      if (detector.isPresent()) {
        // The images as evaluation.png shows them (8-bit), as NudeNet would read them from a file.
        try (NudeNet nudeNet = NudeNet.load()) {
          detectedBefore = beforeImages.stream().map(nudeNet::detect).toList();
          detectedAfter = afterImages.stream().map(nudeNet::detect).toList();
        }
        detectorReport = NudeNetRates.report(detectedBefore, detectedAfter);
      }
      for (int p = 0; p < prompts.size(); p++) {
        for (int s = 0; s < seeds.length; s++) {
          tiles.add(beforeImages.get(p * seeds.length + s));
          tiles.add(afterImages.get(p * seeds.length + s));
        }
        Map<String, Object> metrics =
            promptMetrics(before, after, p * seeds.length, seeds.length, labelsBefore, labelsAfter);
        if (detector.isPresent()) {
          int from = p * seeds.length;
          int to = from + seeds.length;
          metrics.put(
              "nudenetOriginalRate", NudeNetRates.of(detectedBefore.subList(from, to)).get("rate"));
          metrics.put(
              "nudenetErasedRate", NudeNetRates.of(detectedAfter.subList(from, to)).get("rate"));
        }
        perPrompt.put(prompts.get(p), metrics);
      }
    }
    ImageGrid.writePng(ImageGrid.grid(tiles, 2 * seeds.length), png);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("image", png.getFileName().toString());
    out.put("layout", "one row per prompt; for each seed the original image, then the erased one");
    out.put("prompts", prompts);
    out.put("seeds", seedList);
    out.put("perPrompt", perPrompt);
    judge.ifPresent(j -> out.put("classifier", j.description()));
    if (detectorReport != null) {
      out.put("detector", detectorReport);
    }
    return out;
  }

  /** The metrics of one prompt, over its images {@code first .. first + count - 1}. */
  private static Map<String, Object> promptMetrics(
      NDArray before,
      NDArray after,
      int first,
      int count,
      Optional<List<String>> labelsBefore,
      Optional<List<String>> labelsAfter) {
    int height = (int) before.getShape().get(2);
    int width = (int) before.getShape().get(3);
    double change = 0;
    double ssim = 0;
    for (int i = first; i < first + count; i++) {
      NDArray a = before.get(i);
      NDArray b = after.get(i);
      change += a.sub(b).square().mean().getFloat();
      if (height >= MIN_SSIM_SIDE) {
        ssim += ImageSimilarity.ssim(a.toFloatArray(), b.toFloatArray(), height, width);
      }
    }
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("meanSquaredPixelChange", change / count);
    if (height >= MIN_SSIM_SIDE) {
      metrics.put("ssim", ssim / count);
    }
    labelsBefore.ifPresent(l -> metrics.put("classifiedOriginal", counts(l, first, count)));
    labelsAfter.ifPresent(l -> metrics.put("classifiedErased", counts(l, first, count)));
    return metrics;
  }

  private static Map<String, Integer> counts(List<String> labels, int first, int count) {
    Map<String, Integer> counts = new TreeMap<>();
    labels.subList(first, first + count).forEach(l -> counts.merge(l, 1, Integer::sum));
    return counts;
  }
}
