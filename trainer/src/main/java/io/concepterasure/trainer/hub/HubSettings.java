package io.concepterasure.trainer.hub;

import io.concepterasure.trainer.storage.StorageException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * How to reach the Hugging Face Hub: its endpoint (a mirror or an enterprise proxy instead of
 * huggingface.co, as huggingface_hub's {@code HF_ENDPOINT}) and a read token. Both are read from
 * files named like the variables in the model's credentials folder (a mounted Secret), or else from
 * the environment. {@link #toString()} never shows the token.
 *
 * @param token null: anonymous, enough for public models
 */
public record HubSettings(URI endpoint, String token) {
  public static final String TOKEN = "HF_TOKEN";
  public static final String ENDPOINT = "HF_ENDPOINT";
  public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

  public HubSettings {
    if (endpoint == null) {
      endpoint = DEFAULT_ENDPOINT;
    }
    String text = endpoint.toString();
    if (text.endsWith("/")) {
      endpoint = URI.create(text.substring(0, text.length() - 1));
    }
    if (token != null && token.isBlank()) {
      token = null;
    }
  }

  /** Settings from a credentials folder (files HF_TOKEN, HF_ENDPOINT) over the environment. */
  public static HubSettings from(Map<String, String> environment, Path credentialsFolder)
      throws StorageException {
    String token = read(credentialsFolder, TOKEN, environment.get(TOKEN));
    String endpointText = read(credentialsFolder, ENDPOINT, environment.get(ENDPOINT));
    URI endpoint = null;
    if (endpointText != null && !endpointText.isBlank()) {
      try {
        endpoint = URI.create(endpointText.strip());
      } catch (IllegalArgumentException e) {
        throw new StorageException(ENDPOINT + " '" + endpointText + "' is not a URL", true, e);
      }
      if (!("https".equals(endpoint.getScheme()) || "http".equals(endpoint.getScheme()))
          || endpoint.getHost() == null) {
        throw new StorageException(
            ENDPOINT + " '" + endpointText + "' is not an http(s) URL", true);
      }
    }
    return new HubSettings(endpoint, token);
  }

  private static String read(Path folder, String key, String fallback) throws StorageException {
    if (folder != null) {
      Path file = folder.resolve(key);
      if (Files.isRegularFile(file)) {
        try {
          return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          throw new StorageException(file + ": cannot be read: " + e.getMessage(), false, e);
        }
      }
    }
    return fallback == null ? null : fallback.strip();
  }

  /** The endpoint without any user information, for messages. */
  public String endpointForMessages() {
    return endpoint.getRawUserInfo() == null
        ? endpoint.toString()
        : endpoint.toString().replace(endpoint.getRawUserInfo() + "@", "");
  }

  @Override
  public String toString() {
    return "HubSettings[endpoint="
        + endpointForMessages()
        + ", token="
        + (token == null ? "none" : "set")
        + "]";
  }
}
