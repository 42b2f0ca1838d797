package io.concepterasure.trainer.toy;

import static org.assertj.core.api.Assertions.assertThat;

import io.concepterasure.trainer.toy.ShapesDataset.Colour;
import io.concepterasure.trainer.toy.ShapesDataset.Sample;
import io.concepterasure.trainer.toy.ShapesDataset.ShapeKind;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShapesDatasetTest {
  private final ShapesDataset data = new ShapesDataset(1);

  @Test
  void aSampleIsAPureFunctionOfSeedAndIndex() {
    assertThat(new ShapesDataset(1).sample(17).pixels()).isEqualTo(data.sample(17).pixels());
    assertThat(data.sample(18).pixels()).isNotEqualTo(data.sample(17).pixels());
    assertThat(new ShapesDataset(2).sample(17).pixels()).isNotEqualTo(data.sample(17).pixels());
    assertThat(data.none(5).pixels()).isEqualTo(new ShapesDataset(1).none(5).pixels());
  }

  @Test
  void captionsNameColourAndShapeAndEveryPairOccurs() {
    Set<String> captions = new HashSet<>();
    for (long i = 0; i < 400; i++) {
      Sample s = data.sample(i);
      assertThat(s.caption()).isEqualTo("a " + s.colour().word() + " " + s.shape().word());
      assertThat(s.pixels()).hasSize(3 * 32 * 32);
      captions.add(s.caption());
    }
    assertThat(captions)
        .hasSize(ShapeKind.values().length * Colour.values().length)
        .contains("a red circle");
  }

  @Test
  void theShapeIsDrawnInItsColourAndCoversAnAreaTypicalOfItsKind() {
    Map<ShapeKind, Double> coverage = new EnumMap<>(ShapeKind.class);
    for (ShapeKind kind : ShapeKind.values()) {
      double total = 0;
      for (long i = 0; i < 50; i++) {
        Sample s = data.sample(i, kind, Colour.BLUE);
        int covered = 0;
        for (int p = 0; p < 32 * 32; p++) {
          float r = s.pixels()[p];
          float b = s.pixels()[2 * 32 * 32 + p];
          if (b > 0.6f && r < 0.4f) {
            covered++;
          }
        }
        assertThat(covered).as(kind + " " + i).isGreaterThan(10);
        total += covered;
      }
      coverage.put(kind, total / 50);
    }
    // With radius r: circle π r², square (1.7 r)², triangle 1.6 r², cross 2.04 r² (blue-enough
    // pixels).
    assertThat(coverage.get(ShapeKind.SQUARE)).isGreaterThan(coverage.get(ShapeKind.CROSS));
    assertThat(coverage.get(ShapeKind.CIRCLE)).isGreaterThan(coverage.get(ShapeKind.TRIANGLE));
    assertThat(coverage.get(ShapeKind.CROSS)).isGreaterThan(coverage.get(ShapeKind.TRIANGLE));
  }

  @Test
  void shapeGeometry() {
    assertThat(ShapesDataset.inside(ShapeKind.CIRCLE, 0.7, 0.7)).isTrue();
    assertThat(ShapesDataset.inside(ShapeKind.CIRCLE, 0.8, 0.8)).isFalse();
    assertThat(ShapesDataset.inside(ShapeKind.SQUARE, 0.8, 0.8)).isTrue();
    assertThat(ShapesDataset.inside(ShapeKind.CROSS, 0.8, 0.8)).isFalse();
    assertThat(ShapesDataset.inside(ShapeKind.CROSS, 0.9, 0.1)).isTrue();
    assertThat(ShapesDataset.inside(ShapeKind.TRIANGLE, 0, -0.9)).isTrue();
    assertThat(ShapesDataset.inside(ShapeKind.TRIANGLE, 0.5, -0.5)).isFalse();
  }

  @Test
  void noneImagesHaveNoLabelAndAnEmptyCaption() {
    for (long i = 0; i < 20; i++) {
      Sample none = data.none(i);
      assertThat(none.shape()).isNull();
      assertThat(none.colour()).isNull();
      assertThat(none.caption()).isEmpty();
    }
  }
}
