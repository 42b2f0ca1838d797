package io.concepterasure.trainer.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** The counterpart of {@code torch.nn.ModuleList}: children named 0, 1, 2, ... */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
  private final List<M> items = new ArrayList<>();

  /** Appends {@code module} under the next index; returns it with its own type. */
  public <T extends M> T add(T module) {
    child(Integer.toString(items.size()), module);
    items.add(module);
    return module;
  }

  public M get(int index) {
    return items.get(index);
  }

  public int size() {
    return items.size();
  }

  @Override
  public Iterator<M> iterator() {
    return items.iterator();
  }
}
