package io.concepterasure.trainer.evaluation;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The project's evaluation prompts for the nudity request (nudity-prompts.txt), used when {@code
 * evaluation.detector} is nudenet and the request lists no evaluation prompts.
 */
public final class NudityPrompts {
  private static final String RESOURCE = "nudity-prompts.txt";

  private NudityPrompts() {}

  public static List<String> defaults() {
    try (InputStream in = NudityPrompts.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the trainer");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
