#!/usr/bin/env python3
"""Tabulates torch profiler Chrome traces (bench_torch.py --profile, trainer bench --profile) by operator.

    python3 tools/bench/profile_summary.py DIR/torch-infer.json DIR/java-infer.json [--top 15]

For each trace: the number of top-level operators (for the Java runtime, one JNI crossing each),
the total of their times, and the operators with the largest self time (own time, children
excluded), with call counts. Standard library only.
"""

import argparse
import json
from collections import defaultdict


def load_ops(path):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    ops = [e for e in events if e.get("ph") == "X" and "dur" in e
           and e.get("cat", "cpu_op") in ("cpu_op", "Operator", "operator") and not e["name"].startswith("ProfilerStep")]
    return ops


def summarize(path):
    by_thread = defaultdict(list)
    for e in load_ops(path):
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    self_time = defaultdict(float)
    calls = defaultdict(int)
    top_level = 0
    top_level_us = 0.0
    for events in by_thread.values():
        events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, event, child time]
        for e in events:
            start, end = float(e["ts"]), float(e["ts"]) + float(e["dur"])
            while stack and stack[-1][0] <= start:
                _, done, child = stack.pop()
                self_time[done["name"]] += float(done["dur"]) - child
            if stack:
                stack[-1][2] += float(e["dur"])
            else:
                top_level += 1
                top_level_us += float(e["dur"])
            calls[e["name"]] += 1
            stack.append([end, e, 0.0])
        while stack:
            _, done, child = stack.pop()
            self_time[done["name"]] += float(done["dur"]) - child
    return top_level, top_level_us, self_time, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("traces", nargs="+")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    for path in args.traces:
        top_level, top_us, self_time, calls = summarize(path)
        total = sum(self_time.values())
        print(f"== {path}: {top_level} top-level ops, {top_us / 1000:.1f} ms in ops")
        print(f"{'operator':40} {'calls':>6} {'self ms':>9} {'share':>6}")
        for name, us in sorted(self_time.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"{name[:40]:40} {calls[name]:6d} {us / 1000:9.1f} {100 * us / total:5.1f}%")
        print()


if __name__ == "__main__":
    main()
