#!/usr/bin/env python3
"""Tabulates torch profiler Chrome traces (bench_torch.py --profile, trainer bench --profile) by operator.

    python3 tools/bench/profile_summary.py DIR/torch-infer.json DIR/java-infer.json [--top 15]
    python3 tools/bench/profile_summary.py DIR/torch-train.json DIR/java-train.json --parents aten::copy_

For each trace: the number of top-level operators (for the Java runtime, one JNI crossing each),
the total of their times, and the operators with the largest self time (own time, children
excluded), with call counts. With --parents OP: where the calls of OP come from instead, grouped by
the top-level operator, the direct parent and OP's input shapes (to trace, say, copies one runtime
makes and the other does not). Standard library only.
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


def parents(path, op):
    """Calls of `op` grouped by (top-level operator, direct parent, input dims): [calls, us]."""
    by_thread = defaultdict(list)
    for e in load_ops(path):
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    groups = defaultdict(lambda: [0, 0.0])
    for events in by_thread.values():
        events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []
        for e in events:
            start = float(e["ts"])
            while stack and float(stack[-1]["ts"]) + float(stack[-1]["dur"]) <= start:
                stack.pop()
            if e["name"] == op:
                top = stack[0]["name"] if stack else "(top level)"
                parent = stack[-1]["name"] if stack else "(top level)"
                dims = str(e.get("args", {}).get("Input Dims", ""))
                group = groups[(top, parent, dims)]
                group[0] += 1
                group[1] += float(e["dur"])
            stack.append(e)
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("traces", nargs="+")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--parents", metavar="OP", help="group the calls of OP by where they come from")
    args = ap.parse_args()
    if args.parents:
        for path in args.traces:
            groups = parents(path, args.parents)
            calls = sum(g[0] for g in groups.values())
            total = sum(g[1] for g in groups.values())
            print(f"== {path}: {args.parents} {calls} calls, {total / 1000:.1f} ms")
            print(f"{'ms':>9} {'calls':>6}  {'top-level operator':40} {'parent':28} input dims")
            for (top, parent, dims), (n, us) in sorted(groups.items(), key=lambda kv: -kv[1][1])[: args.top]:
                print(f"{us / 1000:9.1f} {n:6d}  {top[:40]:40} {parent[:28]:28} {dims[:70]}")
            print()
        return
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
