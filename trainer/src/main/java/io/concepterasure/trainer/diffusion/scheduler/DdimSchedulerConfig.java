package io.concepterasure.trainer.diffusion.scheduler;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The fields of a diffusers {@code scheduler_config.json} that DDIM reads, with diffusers' names
 * and defaults ({@code DDIMScheduler.__init__}). Unknown keys (other schedulers' fields, {@code
 * _class_name}) are ignored, as diffusers does when it loads a config into another scheduler class.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DdimSchedulerConfig(
    @JsonProperty("num_train_timesteps") Integer numTrainTimesteps,
    @JsonProperty("beta_start") Double betaStart,
    @JsonProperty("beta_end") Double betaEnd,
    @JsonProperty("beta_schedule") String betaSchedule,
    @JsonProperty("trained_betas") List<Double> trainedBetas,
    @JsonProperty("clip_sample") Boolean clipSample,
    @JsonProperty("set_alpha_to_one") Boolean setAlphaToOne,
    @JsonProperty("steps_offset") Integer stepsOffset,
    @JsonProperty("prediction_type") String predictionType,
    @JsonProperty("thresholding") Boolean thresholding,
    @JsonProperty("clip_sample_range") Double clipSampleRange,
    @JsonProperty("timestep_spacing") String timestepSpacing,
    @JsonProperty("rescale_betas_zero_snr") Boolean rescaleBetasZeroSnr) {

  public DdimSchedulerConfig {
    numTrainTimesteps = numTrainTimesteps == null ? 1000 : numTrainTimesteps;
    betaStart = betaStart == null ? 0.0001 : betaStart;
    betaEnd = betaEnd == null ? 0.02 : betaEnd;
    betaSchedule = betaSchedule == null ? "linear" : betaSchedule;
    clipSample = clipSample == null ? Boolean.TRUE : clipSample;
    setAlphaToOne = setAlphaToOne == null ? Boolean.TRUE : setAlphaToOne;
    stepsOffset = stepsOffset == null ? 0 : stepsOffset;
    predictionType = predictionType == null ? "epsilon" : predictionType;
    thresholding = thresholding == null ? Boolean.FALSE : thresholding;
    clipSampleRange = clipSampleRange == null ? 1.0 : clipSampleRange;
    timestepSpacing = timestepSpacing == null ? "leading" : timestepSpacing;
    rescaleBetasZeroSnr = rescaleBetasZeroSnr == null ? Boolean.FALSE : rescaleBetasZeroSnr;
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException(
          "scheduler config: num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (!List.of("epsilon", "sample", "v_prediction").contains(predictionType)) {
      throw new IllegalArgumentException(
          "scheduler config: prediction_type must be epsilon, sample or v_prediction, got "
              + predictionType);
    }
    if (!List.of("leading", "trailing", "linspace").contains(timestepSpacing)) {
      throw new IllegalArgumentException(
          "scheduler config: timestep_spacing must be leading, trailing or linspace, got "
              + timestepSpacing);
    }
    if (thresholding) {
      // Dynamic thresholding is for pixel-space models (Imagen); no Stable Diffusion config sets
      // it.
      throw new IllegalArgumentException("scheduler config: thresholding=true is not supported");
    }
  }

  /** All defaults, as {@code DDIMScheduler()} with no arguments. */
  public static DdimSchedulerConfig defaults() {
    return new DdimSchedulerConfig(
        null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  public static DdimSchedulerConfig read(Path file) {
    try {
      return new ObjectMapper()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .readValue(Files.readAllBytes(file), DdimSchedulerConfig.class);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read scheduler config " + file + ": " + e.getMessage(), e);
    }
  }

  public DdimSchedulerConfig withPredictionType(String type) {
    return new DdimSchedulerConfig(
        numTrainTimesteps,
        betaStart,
        betaEnd,
        betaSchedule,
        trainedBetas,
        clipSample,
        setAlphaToOne,
        stepsOffset,
        type,
        thresholding,
        clipSampleRange,
        timestepSpacing,
        rescaleBetasZeroSnr);
  }

  public DdimSchedulerConfig withClipSample(boolean clip) {
    return new DdimSchedulerConfig(
        numTrainTimesteps,
        betaStart,
        betaEnd,
        betaSchedule,
        trainedBetas,
        clip,
        setAlphaToOne,
        stepsOffset,
        predictionType,
        thresholding,
        clipSampleRange,
        timestepSpacing,
        rescaleBetasZeroSnr);
  }
}
