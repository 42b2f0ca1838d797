package io.concepterasure.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.concepterasure.trainer.hub.HubSettings;
import io.concepterasure.trainer.storage.S3Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * manifests/example-secrets/secrets.yaml names only keys the trainer reads, and every Secret the
 * samples reference: a user who fills it in gets a working sample, not a silently ignored key.
 */
class ExampleSecretsTest {
  private static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
  private static final Set<String> READ =
      Set.of(
          S3Settings.ACCESS_KEY_ID,
          S3Settings.SECRET_ACCESS_KEY,
          S3Settings.SESSION_TOKEN,
          S3Settings.REGION,
          S3Settings.ENDPOINT_URL,
          S3Settings.ENDPOINT_URL_S3,
          S3Settings.FORCE_PATH_STYLE,
          HubSettings.TOKEN,
          HubSettings.ENDPOINT);

  @Test
  void everyKeyIsOneTheTrainerReadsAndEverySampleSecretIsThere() throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<JsonNode> secrets = new ArrayList<>();
    try (YAMLParser parser =
        new YAMLFactory()
            .createParser(REPO.resolve("manifests/example-secrets/secrets.yaml").toFile())) {
      secrets.addAll(yaml.readValues(parser, JsonNode.class).readAll());
    }
    List<String> names = new ArrayList<>();
    for (JsonNode secret : secrets) {
      assertThat(secret.get("kind").asText()).isEqualTo("Secret");
      names.add(secret.at("/metadata/name").asText());
      secret.get("stringData").fieldNames().forEachRemaining(key -> assertThat(READ).contains(key));
    }
    for (String sample : List.of("erase-nudity", "erase-van-gogh", "erase-van-gogh-kueue")) {
      JsonNode spec =
          yaml.readTree(REPO.resolve("manifests/samples/" + sample + ".yaml").toFile()).get("spec");
      for (String location : List.of("model", "output")) {
        JsonNode ref = spec.at("/" + location + "/credentialsSecretRef/name");
        if (!ref.isMissingNode()) {
          assertThat(names).as(sample + " " + location).contains(ref.asText());
        }
      }
    }
  }
}
