#!/usr/bin/env python3
"""Markdown table of unet-vs-torch.sh's JSON lines: medians over rounds, Java/PyTorch ratios."""

import json
import statistics
import sys
from collections import defaultdict


def main(path):
    runs = defaultdict(list)
    memory = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r["config"].endswith("-memory"):
                memory.append(r)
            elif not r["config"].endswith("-profile"):
                runs[(r["config"], r["runtime"])].append(r)
    configs = list(dict.fromkeys(c for c, _ in runs))
    first = next(iter(runs.values()))[0]
    print(f"threads {first['threads']}, batch {first['batch']} (inference: 2 x batch, guidance), "
          f"train params {first['train']}; medians over {len(next(iter(runs.values())))} runs per runtime")
    print()
    print("| config | params (trainable) | step | Java ms | PyTorch ms | Java/PyTorch |")
    print("|---|---|---|---:|---:|---:|")
    rows_mem = []
    for c in configs:
        java, torch = runs.get((c, "java-djl"), []), runs.get((c, "pytorch-eager"), [])
        if not java or not torch:
            continue
        label = f"{java[0]['unet_parameters'] / 1e6:.2f} M ({java[0]['trainable_parameters'] / 1e6:.2f} M)"
        for key, name in (("train_step_ms", "train"), ("infer_step_ms", "infer")):
            j = statistics.median(r[key] for r in java)
            t = statistics.median(r[key] for r in torch)
            print(f"| {c} | {label} | {name} | {j:.1f} | {t:.1f} | {j / t:.2f}x |")
        jp = statistics.median(r["peak_rss_mb"] for r in java)
        tp = statistics.median(r["peak_rss_mb"] for r in torch)
        jl = statistics.median(r["rss_loaded_mb"] for r in java)
        tl = statistics.median(r["rss_loaded_mb"] for r in torch)
        rows_mem.append(f"| {c} | {jp:.0f} | {tp:.0f} | {jp / tp:.2f}x | {jl:.0f} | {tl:.0f} | {jp - jl:.0f} | {tp - tl:.0f} |")
    baseline = [c for c in configs if runs.get((c, "java-djl-baseline"))]
    if baseline:
        print()
        print("Java baseline build (--baseline-jar) in the same rounds:")
        print()
        print("| config | step | baseline ms | Java ms | Java/baseline | baseline peak RSS MB | Java peak RSS MB |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for c in baseline:
            base, java = runs[(c, "java-djl-baseline")], runs[(c, "java-djl")]
            bp = statistics.median(r["peak_rss_mb"] for r in base)
            jp = statistics.median(r["peak_rss_mb"] for r in java)
            for key, name in (("train_step_ms", "train"), ("infer_step_ms", "infer")):
                b = statistics.median(r[key] for r in base)
                j = statistics.median(r[key] for r in java)
                print(f"| {c} | {name} | {b:.1f} | {j:.1f} | {j / b:.2f}x | {bp:.0f} | {jp:.0f} |")
    print()
    print("| config | Java peak RSS MB | PyTorch peak RSS MB | Java/PyTorch | Java RSS loaded | PyTorch RSS loaded "
          "| Java peak - loaded | PyTorch peak - loaded |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows_mem:
        print(row)
    for m in memory:
        print()
        print(f"Java, {m['memory_steps']} training steps on {m['config'].removesuffix('-memory')}: "
              f"RSS {m['rss_start_mb']:.1f} MB at the start, {m['rss_end_mb']:.1f} MB at the end "
              f"({m['rss_end_mb'] - m['rss_start_mb']:+.1f} MB), peak {m['peak_rss_after_memory_steps_mb']:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1])
