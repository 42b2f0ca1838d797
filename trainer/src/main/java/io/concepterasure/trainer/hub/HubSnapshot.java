package io.concepterasure.trainer.hub;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A model repository at one commit: what a revision (branch, tag or commit) resolved to, once, so
 * that every file is read from the same commit even if the branch moves meanwhile.
 *
 * @param revision as asked (null: the default branch, main)
 * @param commit the 40-hex commit the revision resolved to
 */
public record HubSnapshot(String repo, String revision, String commit, List<HubFile> files) {
  public HubSnapshot {
    files = List.copyOf(files);
  }

  public Map<String, HubFile> byPath() {
    return files.stream().collect(Collectors.toMap(HubFile::path, Function.identity()));
  }

  /** {@code hf://repo@revision} as the request named it. */
  public String uri() {
    return "hf://" + repo + (revision == null ? "" : "@" + revision);
  }
}
