package io.concepterasure.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** crds/ is what users install; it must be exactly what the build generates from the classes. */
class CommittedCrdTest {
  private static final String HOW_TO_REFRESH =
      "crds/ differs from the CRD generated from the api classes; run tools/update-crds.sh and commit crds/";

  @Test
  void committedCrdsEqualTheGeneratedOnes() throws IOException {
    Path generated = Path.of(System.getProperty("crd.generated"));
    Path committed = Path.of(System.getProperty("crd.committed"));
    List<String> generatedNames = yamlFiles(generated);
    assertThat(generatedNames).as("generated CRDs in " + generated).isNotEmpty();
    assertThat(yamlFiles(committed)).as(HOW_TO_REFRESH).isEqualTo(generatedNames);
    for (String name : generatedNames) {
      assertThat(Files.readString(committed.resolve(name)))
          .as(HOW_TO_REFRESH + " (" + name + ")")
          .isEqualTo(Files.readString(generated.resolve(name)));
    }
  }

  private static List<String> yamlFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
          .sorted()
          .toList();
    }
  }
}
