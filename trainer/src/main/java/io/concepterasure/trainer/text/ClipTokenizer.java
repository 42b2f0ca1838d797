package io.concepterasure.trainer.text;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, read from a diffusers {@code tokenizer/} folder ({@code
 * vocab.json}, {@code merges.txt}, {@code tokenizer_config.json}), giving the ids of transformers'
 * {@code CLIPTokenizer} as it runs without ftfy installed: BERT's basic clean-up (control characters
 * dropped, CJK ideographs split, NFC, lower case), CLIP's pre-tokenizer pattern, then BPE with the
 * {@code </w>} end-of-word suffix.
 *
 * <p>Special tokens (bos, eos, unk, pad and any added token) found in the text are kept whole and
 * map straight to their ids, as transformers does by splitting on them before the rest runs.
 */
public final class ClipTokenizer {
  // transformers reads only the first 49152 - 256 - 2 merges: the rest of CLIP's merges.txt was
  // never part of the trained vocabulary.
  private static final int MAX_MERGES = 49152 - 256 - 2;
  private static final Pattern PRE_TOKENIZER =
      Pattern.compile(
          "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
  private static final String[] BYTE_ENCODER = bytesToUnicode();

  private final Map<String, Integer> encoder;
  private final Map<String, Integer> mergeRanks;
  private final Map<String, Integer> specialTokens;
  private final Map<String, String[]> cache = new ConcurrentHashMap<>();
  private final int bosId;
  private final int eosId;
  private final int padId;
  private final int unkId;
  private final int modelMaxLength;

  private ClipTokenizer(
      Map<String, Integer> encoder,
      List<String> merges,
      Map<String, Integer> specialTokens,
      String bos,
      String eos,
      String pad,
      String unk,
      int modelMaxLength) {
    this.encoder = encoder;
    this.mergeRanks = new HashMap<>();
    for (int i = 0; i < merges.size(); i++) {
      mergeRanks.putIfAbsent(merges.get(i), i);
    }
    this.specialTokens = specialTokens;
    this.bosId = idOf(bos, "bos_token");
    this.eosId = idOf(eos, "eos_token");
    this.padId = idOf(pad, "pad_token");
    this.unkId = idOf(unk, "unk_token");
    this.modelMaxLength = modelMaxLength;
  }

  private int idOf(String token, String role) {
    Integer id = specialTokens.containsKey(token) ? specialTokens.get(token) : encoder.get(token);
    if (id == null) {
      throw new IllegalArgumentException("tokenizer: " + role + " '" + token + "' is not in vocab.json");
    }
    return id;
  }

  /** Loads the tokenizer from a diffusers {@code tokenizer/} folder. */
  public static ClipTokenizer load(Path dir) {
    ObjectMapper json = new ObjectMapper();
    try {
      Path vocabFile = require(dir.resolve("vocab.json"));
      Path mergesFile = require(dir.resolve("merges.txt"));
      Map<String, Integer> vocab =
          json.readValue(vocabFile.toFile(), new TypeReference<LinkedHashMap<String, Integer>>() {});
      List<String> lines = Arrays.asList(Files.readString(mergesFile, StandardCharsets.UTF_8).strip().split("\n"));
      List<String> merges = new ArrayList<>();
      // The first line is the "#version" header.
      for (String line : lines.subList(Math.min(1, lines.size()), Math.min(lines.size(), MAX_MERGES + 1))) {
        String[] pair = line.strip().split("\\s+");
        if (pair.length != 2) {
          throw new IllegalArgumentException("tokenizer: bad line in " + mergesFile + ": '" + line + "'");
        }
        merges.add(pair[0] + " " + pair[1]);
      }

      JsonNode config = readOptional(json, dir.resolve("tokenizer_config.json"));
      JsonNode specialMap = readOptional(json, dir.resolve("special_tokens_map.json"));
      String bos = tokenText(config, specialMap, "bos_token", "<|startoftext|>");
      String eos = tokenText(config, specialMap, "eos_token", "<|endoftext|>");
      String unk = tokenText(config, specialMap, "unk_token", "<|endoftext|>");
      String pad = tokenText(config, specialMap, "pad_token", "<|endoftext|>");
      // CLIP text encoders have 77 positions; older folders omit the key.
      int maxLength = config.path("model_max_length").asInt(77);

      Map<String, Integer> special = new LinkedHashMap<>();
      for (String token : List.of(bos, eos, unk, pad)) {
        Integer id = vocab.get(token);
        if (id == null) {
          throw new IllegalArgumentException("tokenizer: special token '" + token + "' is not in " + vocabFile);
        }
        special.put(token, id);
      }
      Iterator<Map.Entry<String, JsonNode>> added = config.path("added_tokens_decoder").fields();
      while (added.hasNext()) {
        Map.Entry<String, JsonNode> e = added.next();
        special.putIfAbsent(e.getValue().path("content").asText(), Integer.parseInt(e.getKey()));
      }
      return new ClipTokenizer(vocab, merges, special, bos, eos, pad, unk, maxLength);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer in " + dir + ": " + e.getMessage(), e);
    }
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
  private static String tokenText(JsonNode config, JsonNode specialMap, String key, String fallback) {
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

  /** The ids of {@code <bos> text <eos>}, neither truncated nor padded. */
  public int[] encode(String text) {
    List<Integer> tokens = tokenIds(text);
    int[] ids = new int[tokens.size() + 2];
    ids[0] = bosId;
    for (int i = 0; i < tokens.size(); i++) {
      ids[i + 1] = tokens.get(i);
    }
    ids[ids.length - 1] = eosId;
    return ids;
  }

  /**
   * The ids the Stable Diffusion pipeline feeds the text encoder: {@code <bos> text <eos>}, the
   * text truncated so that the whole fits {@code model_max_length}, then padded with the pad token.
   */
  public int[] encodePadded(String text) {
    List<Integer> tokens = tokenIds(text);
    int keep = Math.min(tokens.size(), modelMaxLength - 2);
    int[] ids = new int[modelMaxLength];
    Arrays.fill(ids, padId);
    ids[0] = bosId;
    for (int i = 0; i < keep; i++) {
      ids[i + 1] = tokens.get(i);
    }
    ids[keep + 1] = eosId;
    return ids;
  }

  /** The ids of the text alone, without bos and eos. */
  public List<Integer> tokenIds(String text) {
    List<Integer> ids = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < text.length()) {
      String special = specialAt(text, i);
      if (special == null) {
        i++;
        continue;
      }
      encodeOrdinary(text.substring(start, i), ids);
      ids.add(specialTokens.get(special));
      i += special.length();
      start = i;
    }
    encodeOrdinary(text.substring(start), ids);
    return ids;
  }

  /** The longest special token that starts at {@code i}, as transformers' trie finds it. */
  private String specialAt(String text, int i) {
    String best = null;
    for (String token : specialTokens.keySet()) {
      if (!token.isEmpty() && text.startsWith(token, i) && (best == null || token.length() > best.length())) {
        best = token;
      }
    }
    return best;
  }

  private void encodeOrdinary(String text, List<Integer> ids) {
    if (text.isEmpty()) {
      return;
    }
    Matcher m = PRE_TOKENIZER.matcher(basicClean(text));
    while (m.find()) {
      StringBuilder word = new StringBuilder();
      for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
        word.append(BYTE_ENCODER[b & 0xff]);
      }
      for (String piece : cache.computeIfAbsent(word.toString(), this::bpe)) {
        ids.add(encoder.getOrDefault(piece, unkId));
      }
    }
  }

  /**
   * transformers' {@code BasicTokenizer(strip_accents=False, do_split_on_punc=False)}: drop NUL,
   * U+FFFD and control/format characters, turn whitespace into spaces, pad CJK ideographs with
   * spaces, NFC-normalise, lower-case each whitespace-separated word and join them with one space.
   */
  static String basicClean(String text) {
    StringBuilder cleaned = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            cp -> {
              if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
              }
              if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
                  || Character.getType(cp) == Character.SPACE_SEPARATOR) {
                cleaned.append(' ');
              } else if (isCjkIdeograph(cp)) {
                cleaned.append(' ').appendCodePoint(cp).append(' ');
              } else {
                cleaned.appendCodePoint(cp);
              }
            });
    String normalized = Normalizer.normalize(cleaned, Normalizer.Form.NFC);
    StringBuilder out = new StringBuilder(normalized.length());
    for (String word : splitOnPythonWhitespace(normalized)) {
      if (out.length() > 0) {
        out.append(' ');
      }
      out.append(word.toLowerCase(Locale.ROOT));
    }
    return out.toString();
  }

  private static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.PRIVATE_USE
        || type == Character.SURROGATE
        || type == Character.UNASSIGNED;
  }

  private static boolean isCjkIdeograph(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  /** Python's {@code str.split()}: runs of {@code str.isspace()} characters separate words. */
  private static List<String> splitOnPythonWhitespace(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    text.codePoints()
        .forEach(
            cp -> {
              boolean space = Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
              if (space) {
                if (word.length() > 0) {
                  words.add(word.toString());
                  word.setLength(0);
                }
              } else {
                word.appendCodePoint(cp);
              }
            });
    if (word.length() > 0) {
      words.add(word.toString());
    }
    return words;
  }

  /** Greedy BPE: repeatedly merge the adjacent pair with the lowest merge rank. */
  private String[] bpe(String token) {
    List<String> word = new ArrayList<>(token.length());
    for (int i = 0; i < token.length() - 1; i++) {
      word.add(String.valueOf(token.charAt(i)));
    }
    word.add(token.charAt(token.length() - 1) + "</w>");
    while (word.size() > 1) {
      int bestRank = Integer.MAX_VALUE;
      String first = null;
      String second = null;
      for (int i = 0; i < word.size() - 1; i++) {
        Integer rank = mergeRanks.get(word.get(i) + " " + word.get(i + 1));
        if (rank != null && rank < bestRank) {
          bestRank = rank;
          first = word.get(i);
          second = word.get(i + 1);
        }
      }
      if (first == null) {
        break;
      }
      List<String> merged = new ArrayList<>(word.size());
      for (int i = 0; i < word.size(); i++) {
        if (i < word.size() - 1 && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
          merged.add(first + second);
          i++;
        } else {
          merged.add(word.get(i));
        }
      }
      word = merged;
    }
    return word.toArray(String[]::new);
  }

  /** GPT-2's reversible map from bytes to printable characters, so BPE never sees spaces or controls. */
  private static String[] bytesToUnicode() {
    String[] table = new String[256];
    int extra = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      table[b] = String.valueOf((char) (printable ? b : 256 + extra++));
    }
    return table;
  }
}
