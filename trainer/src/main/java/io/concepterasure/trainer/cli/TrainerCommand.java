package io.concepterasure.trainer.cli;

import io.concepterasure.trainer.nn.FusedOps;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code trainer}: the command-line program the training Job runs; each task is a subcommand. */
@Command(
    name = "trainer",
    mixinStandardHelpOptions = true,
    versionProvider = TrainerCommand.Version.class,
    description = "Stable Diffusion runtime and concept erasure, on DJL.",
    subcommands = {
      GenerateCommand.class,
      EraseCommand.class,
      PurifyCommand.class,
      PretrainToyCommand.class,
      BenchCommand.class,
      BenchErasureCommand.class,
      BenchPurificationCommand.class,
      CommandLine.HelpCommand.class
    })
public final class TrainerCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--no-fused",
      scope = ScopeType.INHERIT,
      description =
          "Debugging only: run attention, GroupNorm and SiLU as several DJL operators instead of"
              + " libtorch's fused ones (same results within float rounding, several times the"
              + " memory: SD 1.5 does not fit).")
  void noFused(boolean noFused) {
    if (noFused) {
      System.setProperty(FusedOps.ENABLED_PROPERTY, "false");
    }
  }

  public static void main(String[] args) {
    // Never reach for a model hub or a native-library download.
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    System.exit(new CommandLine(new TrainerCommand()).execute(args));
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** The version and revision the build stamped into {@code build.properties}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties build = new Properties();
      try (InputStream in =
          TrainerCommand.class.getResourceAsStream("/io/concepterasure/trainer/build.properties")) {
        if (in != null) {
          build.load(in);
        }
      }
      String version = build.getProperty("version", "(development build)");
      String revision = build.getProperty("revision", "");
      // An unfiltered file (an IDE's build) or a build outside git has no revision.
      return new String[] {
        "trainer "
            + version
            + (revision.isEmpty() || revision.startsWith("${") ? "" : " (" + revision + ")")
      };
    }
  }
}
