package io.concepterasure.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.concepterasure.trainer.ParityFixture;
import io.concepterasure.trainer.io.SafetensorsReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code trainer bench} on the tiny SD 1.x fixture, a couple of steps: arguments and JSON, no
 * timing checks.
 */
class BenchCommandTest {
  @TempDir Path tmp;

  private static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new TrainerCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void printsOneJsonLineWithTheTimesAndTheResidentSize() throws Exception {
    Path model = ParityFixture.root().resolve("sd1-tiny");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        run(
            out,
            err,
            "bench",
            "--model",
            model.toString(),
            "--threads",
            "1",
            "--warmup",
            "0",
            "--iterations",
            "2",
            "--steps-for-memory",
            "3",
            "--profile",
            tmp.resolve("profile").toString());
    assertThat(code).as(err.toString()).isZero();

    JsonNode json = new ObjectMapper().readTree(out.toString().strip());
    assertThat(json.get("runtime").asText()).isEqualTo("java-djl");
    assertThat(json.get("threads").asInt()).isEqualTo(1);
    assertThat(json.get("train").asText()).isEqualTo("crossAttention");
    assertThat(json.get("train_step_ms_all")).hasSize(2);
    assertThat(json.get("infer_step_ms_all")).hasSize(2);
    assertThat(json.get("latent").toString()).isEqualTo("[4,16,16]");
    assertThat(json.get("context").toString()).isEqualTo("[77,32]");
    assertThat(json.get("memory_steps").asInt()).isEqualTo(3);
    assertThat(json.get("peak_rss_mb").asDouble())
        .isGreaterThanOrEqualTo(json.get("rss_loaded_mb").asDouble());
    assertThat(json.get("rss_end_mb").asDouble()).isPositive();
    assertThat(tmp.resolve("profile/java-train.json")).isNotEmptyFile();
    assertThat(tmp.resolve("profile/java-infer.json")).isNotEmptyFile();

    // every parameter of the checkpoint, and exactly the cross-attention ones as trainable
    long all = 0;
    long crossAttention = 0;
    try (SafetensorsReader reader =
        SafetensorsReader.open(model.resolve("unet/diffusion_pytorch_model.safetensors"))) {
      for (String name : reader.names()) {
        long size = reader.info(name).shape().size();
        all += size;
        crossAttention += name.contains("attn2") ? size : 0;
      }
    }
    assertThat(json.get("unet_parameters").asLong()).isEqualTo(all);
    assertThat(json.get("trainable_parameters").asLong()).isEqualTo(crossAttention);
  }

  @Test
  void aFolderWithoutAUNetConfigIsRejectedByName() {
    StringWriter err = new StringWriter();
    int code = run(new StringWriter(), err, "bench", "--model", tmp.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--model: neither " + tmp.resolve("unet/config.json"));
  }

  @Test
  void unknownParameterSetIsRejected() {
    StringWriter err = new StringWriter();
    int code =
        run(new StringWriter(), err, "bench", "--model", tmp.toString(), "--train-params", "attn3");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--train-params: unknown parameter set 'attn3'");
  }

  @Test
  void zeroIterationsIsRejected() {
    StringWriter err = new StringWriter();
    int code =
        run(new StringWriter(), err, "bench", "--model", tmp.toString(), "--iterations", "0");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--iterations");
  }
}
