#!/usr/bin/env bash
# Resident size of the trainer before and after N training steps (the committed sd1-tiny UNet,
# crossAttention, Adam), under each JVM heap / glibc allocator setting, one process each, in turn.
# Prints one JSON line per setting (trainer bench's, with the setting added).
#
#   flock /tmp/ce-build.lock tools/bench/rss-steps.sh [--steps 500] [--model DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
jar=${TRAINER_JAR:-$root/trainer/target/trainer.jar}
model=$root/trainer/src/test/resources/parity/sd1-tiny
steps=500
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "rss-steps.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
# name | JVM options | environment
settings=(
  "default heap||"
  "image heap (MaxRAMPercentage=25 of 4 GiB)|-Xmx1g|"
  "image heap + MALLOC_ARENA_MAX=2|-Xmx1g|MALLOC_ARENA_MAX=2"
  "image heap + MALLOC_ARENA_MAX=2 + trim 128 KiB|-Xmx1g|MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072"
)
for s in "${settings[@]}"; do
  IFS='|' read -r name opts envs <<<"$s"
  # shellcheck disable=SC2086
  line=$(env $envs java -Dai.djl.offline=true $opts -jar "$jar" bench --model "$model" --threads 2 \
    --warmup 2 --iterations 5 --steps-for-memory "$steps" 2>/dev/null | tail -n 1)
  echo "{\"setting\":\"$name\",\"steps\":$steps,${line#\{}"
done
