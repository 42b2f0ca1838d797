package io.concepterasure.trainer.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP's byte-level BPE tokenizer, read from a diffusers {@code tokenizer/} folder ({@code
 * vocab.json}, {@code merges.txt}, {@code tokenizer_config.json}).
 *
 * <p>transformers' {@code CLIPTokenizer} is the Rust {@code tokenizers} library with a pipeline it
 * assembles in code (NFC, whitespace runs to one space, lower case; CLIP's split pattern;
 * byte-level BPE with a {@code </w>} end-of-word suffix). Published checkpoints ship no {@code
 * tokenizer.json}, so we assemble the same pipeline as JSON and run it in the same library through
 * DJL: the ids then agree by construction rather than by re-implementation. Special tokens (bos,
 * eos, unk, pad) are matched in the raw text and map straight to their ids, as there; Stable
 * Diffusion 2's pad token {@code !} is one of them. Folders saved by transformers 5 hold that
 * pipeline as {@code tokenizer.json} alone (no vocab.json, no merges.txt); it is read as it is, as
 * transformers reads it.
 *
 * <p>Truncation and padding are done here, as the pipeline asks for them: {@code <bos> text <eos>},
 * the text cut so that the whole fits {@code model_max_length}, then the pad token.
 */
public final class ClipTokenizer implements AutoCloseable {
  // transformers reads only the first 49152 - 256 - 2 merges: the rest of CLIP's merge list was
  // never part of the trained vocabulary.
  private static final int MAX_MERGES = 49152 - 256 - 2;
  private static final String SPLIT_PATTERN =
      "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

  private static final String TOKENIZER_JSON = "tokenizer.json";

  private final HuggingFaceTokenizer tokenizer;
  private final int bosId;
  private final int eosId;
  private final int padId;
  private final int modelMaxLength;

  private ClipTokenizer(
      HuggingFaceTokenizer tokenizer, int bosId, int eosId, int padId, int modelMaxLength) {
    this.tokenizer = tokenizer;
    this.bosId = bosId;
    this.eosId = eosId;
    this.padId = padId;
    this.modelMaxLength = modelMaxLength;
  }

  /**
   * Loads the tokenizer from a diffusers {@code tokenizer/} folder: vocab.json and merges.txt, or
   * else tokenizer.json.
   */
  public static ClipTokenizer load(Path dir) {
    ObjectMapper json = new ObjectMapper();
    boolean bpeFiles =
        Files.isRegularFile(dir.resolve("vocab.json"))
            && Files.isRegularFile(dir.resolve("merges.txt"));
    if (!bpeFiles && Files.isRegularFile(dir.resolve(TOKENIZER_JSON))) {
      return fromTokenizerJson(json, dir);
    }
    try {
      Path vocabFile = require(dir.resolve("vocab.json"));
      Path mergesFile = require(dir.resolve("merges.txt"));
      JsonNode vocab = json.readTree(vocabFile.toFile());
      if (!vocab.isObject() || vocab.isEmpty()) {
        throw new IllegalArgumentException("tokenizer: " + vocabFile + " is not a token-to-id map");
      }
      ArrayNode merges = json.createArrayNode();
      List<String> lines =
          Arrays.asList(Files.readString(mergesFile, StandardCharsets.UTF_8).strip().split("\n"));
      // The first line is the "#version" header.
      for (String line :
          lines.subList(Math.min(1, lines.size()), Math.min(lines.size(), MAX_MERGES + 1))) {
        String[] pair = line.strip().split("\\s+");
        if (pair.length != 2) {
          throw new IllegalArgumentException(
              "tokenizer: bad line in " + mergesFile + ": '" + line + "'");
        }
        merges.add(json.createArrayNode().add(pair[0]).add(pair[1]));
      }

      JsonNode config = readOptional(json, dir.resolve("tokenizer_config.json"));
      JsonNode specialMap = readOptional(json, dir.resolve("special_tokens_map.json"));
      String bos = tokenText(config, specialMap, "bos_token", "<|startoftext|>");
      String eos = tokenText(config, specialMap, "eos_token", "<|endoftext|>");
      String unk = tokenText(config, specialMap, "unk_token", "<|endoftext|>");
      String pad = tokenText(config, specialMap, "pad_token", "<|endoftext|>");
      // CLIP text encoders have 77 positions; older folders omit the key.
      int maxLength = config.path("model_max_length").asInt(77);
      if (maxLength < 2) {
        throw new IllegalArgumentException(
            "tokenizer: model_max_length must leave room for bos and eos, got " + maxLength);
      }

      Map<String, Integer> special = new LinkedHashMap<>();
      for (String token : List.of(bos, eos, unk, pad)) {
        JsonNode id = vocab.get(token);
        if (id == null || !id.canConvertToInt()) {
          throw new IllegalArgumentException(
              "tokenizer: special token '" + token + "' is not in " + vocabFile);
        }
        special.put(token, id.asInt());
      }
      Iterator<Map.Entry<String, JsonNode>> added = config.path("added_tokens_decoder").fields();
      while (added.hasNext()) {
        Map.Entry<String, JsonNode> e = added.next();
        special.putIfAbsent(e.getValue().path("content").asText(), Integer.parseInt(e.getKey()));
      }

      byte[] pipeline =
          json.writeValueAsBytes(pipelineJson(json, (ObjectNode) vocab, merges, special, unk));
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(pipeline),
              Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
      return new ClipTokenizer(
          tokenizer, special.get(bos), special.get(eos), special.get(pad), maxLength);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * A tokenizer.json as transformers 5 saves it; bos, eos and pad named by tokenizer_config.json
   * (or CLIP's defaults), their ids from the file's added tokens or vocabulary.
   */
  private static ClipTokenizer fromTokenizerJson(ObjectMapper json, Path dir) {
    Path file = dir.resolve(TOKENIZER_JSON);
    try {
      byte[] bytes = Files.readAllBytes(file);
      JsonNode root = json.readTree(bytes);
      JsonNode model = root.path("model");
      if (!"BPE".equals(model.path("type").asText()) || !model.path("vocab").isObject()) {
        throw new IllegalArgumentException(
            "tokenizer: "
                + file
                + " is not a BPE tokenizer (model type '"
                + model.path("type").asText()
                + "'), as CLIP's is");
      }
      Map<String, Integer> ids = new LinkedHashMap<>();
      for (JsonNode added : root.path("added_tokens")) {
        ids.put(added.path("content").asText(), added.path("id").asInt());
      }
      JsonNode config = readOptional(json, dir.resolve("tokenizer_config.json"));
      JsonNode specialMap = readOptional(json, dir.resolve("special_tokens_map.json"));
      int[] special = new int[3];
      String[] keys = {"bos_token", "eos_token", "pad_token"};
      String[] fallbacks = {"<|startoftext|>", "<|endoftext|>", "<|endoftext|>"};
      for (int i = 0; i < keys.length; i++) {
        String token = tokenText(config, specialMap, keys[i], fallbacks[i]);
        Integer id = ids.get(token);
        if (id == null && model.path("vocab").path(token).canConvertToInt()) {
          id = model.path("vocab").get(token).asInt();
        }
        if (id == null) {
          throw new IllegalArgumentException(
              "tokenizer: special token '" + token + "' is not in " + file);
        }
        special[i] = id;
      }
      int maxLength = config.path("model_max_length").asInt(77);
      if (maxLength < 2) {
        throw new IllegalArgumentException(
            "tokenizer: model_max_length must leave room for bos and eos, got " + maxLength);
      }
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(bytes),
              Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
      return new ClipTokenizer(tokenizer, special[0], special[1], special[2], maxLength);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The {@code tokenizer.json} that transformers' {@code CLIPTokenizer} builds for these files. */
  private static ObjectNode pipelineJson(
      ObjectMapper json,
      ObjectNode vocab,
      ArrayNode merges,
      Map<String, Integer> special,
      String unk) {
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    special.forEach(
        (content, id) ->
            added
                .addObject()
                .put("id", id)
                .put("content", content)
                .put("single_word", false)
                .put("lstrip", false)
                .put("rstrip", false)
                .put("normalized", false)
                .put("special", true));
    ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
    ArrayNode normalizers = normalizer.putArray("normalizers");
    normalizers.addObject().put("type", "NFC");
    ObjectNode replace = normalizers.addObject().put("type", "Replace");
    replace.putObject("pattern").put("Regex", "\\s+");
    replace.put("content", " ");
    normalizers.addObject().put("type", "Lowercase");
    ObjectNode preTokenizer = root.putObject("pre_tokenizer").put("type", "Sequence");
    ArrayNode preTokenizers = preTokenizer.putArray("pretokenizers");
    ObjectNode split = preTokenizers.addObject().put("type", "Split");
    split.putObject("pattern").put("Regex", SPLIT_PATTERN);
    split.put("behavior", "Removed").put("invert", true);
    preTokenizers
        .addObject()
        .put("type", "ByteLevel")
        .put("add_prefix_space", false)
        .put("trim_offsets", true)
        .put("use_regex", true);
    root.putNull("post_processor");
    root.putObject("decoder")
        .put("type", "ByteLevel")
        .put("add_prefix_space", true)
        .put("trim_offsets", true)
        .put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", unk);
    model.put("continuing_subword_prefix", "");
    model.put("end_of_word_suffix", "</w>");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    model.set("vocab", vocab);
    model.set("merges", merges);
    return root;
  }

  private static Path require(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("tokenizer: missing " + file);
    }
    return file;
  }

  private static JsonNode readOptional(ObjectMapper json, Path file) throws IOException {
    return Files.isRegularFile(file) ? json.readTree(file.toFile()) : json.createObjectNode();
  }

  /** A special token is either a string or an AddedToken object with a "content" field. */
  private static String tokenText(
      JsonNode config, JsonNode specialMap, String key, String fallback) {
    JsonNode node = config.hasNonNull(key) ? config.get(key) : specialMap.path(key);
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isObject() && node.hasNonNull("content")) {
      return node.get("content").asText();
    }
    return fallback;
  }

  public int modelMaxLength() {
    return modelMaxLength;
  }

  public int bosTokenId() {
    return bosId;
  }

  public int eosTokenId() {
    return eosId;
  }

  public int padTokenId() {
    return padId;
  }

  /** The ids of the text alone, without bos and eos. */
  public long[] tokenIds(String text) {
    Encoding encoding = tokenizer.encode(text, false, false);
    return encoding.getIds();
  }

  /** The ids of {@code <bos> text <eos>}, neither truncated nor padded. */
  public long[] encode(String text) {
    long[] tokens = tokenIds(text);
    long[] ids = new long[tokens.length + 2];
    ids[0] = bosId;
    System.arraycopy(tokens, 0, ids, 1, tokens.length);
    ids[ids.length - 1] = eosId;
    return ids;
  }

  /**
   * The ids the Stable Diffusion pipeline feeds the text encoder ({@code padding="max_length",
   * truncation=True}): {@code model_max_length} ids.
   */
  public long[] encodePadded(String text) {
    long[] tokens = tokenIds(text);
    int keep = Math.min(tokens.length, modelMaxLength - 2);
    long[] ids = new long[modelMaxLength];
    Arrays.fill(ids, padId);
    ids[0] = bosId;
    System.arraycopy(tokens, 0, ids, 1, keep);
    ids[keep + 1] = eosId;
    return ids;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
