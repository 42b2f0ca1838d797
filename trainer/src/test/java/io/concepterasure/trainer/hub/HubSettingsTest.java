package io.concepterasure.trainer.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.trainer.storage.StorageException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSettingsTest {
  @TempDir Path secret;

  @Test
  void theMountedSecretWinsOverTheEnvironmentAndTheTokenIsNeverShown() throws Exception {
    Files.writeString(secret.resolve("HF_TOKEN"), "hf_from_secret\n");
    Files.writeString(secret.resolve("HF_ENDPOINT"), "https://hub-mirror.example.com/");
    HubSettings s =
        HubSettings.from(Map.of("HF_TOKEN", "hf_from_env", "HF_ENDPOINT", "https://x.y"), secret);
    assertThat(s.token()).isEqualTo("hf_from_secret");
    assertThat(s.endpoint()).isEqualTo(URI.create("https://hub-mirror.example.com"));
    assertThat(s.toString()).doesNotContain("hf_from").contains("token=set");
  }

  @Test
  void defaultsToTheHubAnonymously() throws Exception {
    HubSettings s = HubSettings.from(Map.of(), null);
    assertThat(s.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
    assertThat(s.token()).isNull();
    assertThat(HubSettings.from(Map.of("HF_TOKEN", "  "), secret).token()).isNull();
  }

  @Test
  void anEndpointThatIsNotAnHttpUrlIsInvalidInput() {
    assertThatThrownBy(() -> HubSettings.from(Map.of("HF_ENDPOINT", "ftp://mirror"), null))
        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.invalidInput()).isTrue())
        .hasMessage("HF_ENDPOINT 'ftp://mirror' is not an http(s) URL");
  }

  @Test
  void userInformationInTheEndpointStaysOutOfMessages() {
    HubSettings s = new HubSettings(URI.create("https://user:pw@proxy.corp:8443"), null);
    assertThat(s.endpointForMessages()).isEqualTo("https://proxy.corp:8443");
  }
}
