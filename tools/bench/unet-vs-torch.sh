#!/usr/bin/env bash
# The Java (DJL) UNet runtime against PyTorch eager on the same weights, inputs and threads, side by
# side in one run: the tiny SD 1.x fixture and the mid-size config (SD 1.x layout at a quarter of the
# channels, 32x32 latents, 77x768 context), alternating the two runtimes, then a Markdown table of the
# medians and Java/PyTorch ratios, and the resident size before and after 500 training steps (tiny).
#
#   flock /tmp/ce-build.lock tools/bench/unet-vs-torch.sh [--threads N] [--rounds R] [--iterations N]
#       [--warmup N] [--memory-steps 500] [--profile DIR] [--baseline-jar OLD.jar]
#
# Defaults: tiny 10 warm-up + 10 timed steps per run (the JIT still matters there), mid 2 + 5.
#
# --baseline-jar also runs another build of the trainer in every round (before/after a runtime change).
# Needs trainer/target/trainer.jar (mvn -pl trainer -am package -DskipTests) and tools/parity/.venv
# (tools/parity/setup.sh). Takes the build lock only through the caller: measure on a quiet machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$root/tools/parity/.venv/bin/python}
jar=${TRAINER_JAR:-$root/trainer/target/trainer.jar}
java_opts=${JAVA_OPTS:-}
threads=2
rounds=2
warmup_arg=
iterations_arg=
memory_steps=500
profile=
baseline_jar=

while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --warmup) warmup_arg=$2; shift 2 ;;
    --iterations) iterations_arg=$2; shift 2 ;;
    --memory-steps) memory_steps=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --baseline-jar) baseline_jar=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unet-vs-torch.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x $python ]] || { echo "unet-vs-torch.sh: no Python at $python (run tools/parity/setup.sh)" >&2; exit 2; }
[[ -f $jar ]] || { echo "unet-vs-torch.sh: no $jar (mvn -pl trainer -am package -DskipTests)" >&2; exit 2; }

work=$(mktemp -d /tmp/unet-vs-torch.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$work/results.jsonl
tiny=$root/trainer/src/test/resources/parity/sd1-tiny

echo "preparing inputs and the mid-size UNet in $work" >&2
"$python" "$root/tools/parity/bench_torch.py" --model "$tiny" --save-inputs "$work/tiny-inputs.safetensors" \
  --no-bench 2>/dev/null
"$python" "$root/tools/parity/bench_torch.py" --config mid --save "$work/mid" \
  --save-inputs "$work/mid-inputs.safetensors" --no-bench 2>/dev/null

run_java() {  # config model inputs [extra args]
  run_jar "$jar" java-djl "$@"
}
run_jar() {  # jar runtime-name config model inputs [extra args]
  local jar=$1 name=$2 config=$3 model=$4 inputs=$5; shift 5
  # shellcheck disable=SC2086
  java $java_opts -jar "$jar" bench --model "$model" --inputs "$inputs" --threads "$threads" \
    --warmup "$warmup" --iterations "$iterations" "$@" 2>/dev/null | tail -n 1 \
    | sed -e "s/^{/{\"config\":\"$config\",/" -e "s/\"runtime\":\"java-djl\"/\"runtime\":\"$name\"/" >>"$results"
}
run_torch() {  # config model inputs [extra args]
  local config=$1 model=$2 inputs=$3; shift 3
  "$python" "$root/tools/parity/bench_torch.py" --model "$model" --inputs "$inputs" --threads "$threads" \
    --warmup "$warmup" --repeat "$iterations" "$@" 2>/dev/null | tail -n 1 | sed "s/^{/{\"config\": \"$config\",/" >>"$results"
}

for config in tiny mid; do
  if [[ $config == tiny ]]; then model=$tiny; inputs=$work/tiny-inputs.safetensors
  else model=$work/mid; inputs=$work/mid-inputs.safetensors; fi
  # the tiny model's steps are short enough for the JVM's JIT to still matter after 2 of them
  if [[ $config == tiny ]]; then warmup=${warmup_arg:-10}; iterations=${iterations_arg:-10}
  else warmup=${warmup_arg:-2}; iterations=${iterations_arg:-5}; fi
  for ((r = 1; r <= rounds; r++)); do
    # alternate who goes first, so neither always runs on a warmer (or busier) machine
    if ((r % 2)); then
      echo "$config round $r: java, torch" >&2; run_java $config "$model" "$inputs"; run_torch $config "$model" "$inputs"
    else
      echo "$config round $r: torch, java" >&2; run_torch $config "$model" "$inputs"; run_java $config "$model" "$inputs"
    fi
    if [[ -n $baseline_jar ]]; then
      echo "$config round $r: baseline java" >&2; run_jar "$baseline_jar" java-djl-baseline $config "$model" "$inputs"
    fi
  done
  if [[ -n $profile ]]; then
    echo "$config: profiling one step of each into $profile/$config" >&2
    run_java "$config-profile" "$model" "$inputs" --profile "$profile/$config"
    run_torch "$config-profile" "$model" "$inputs" --profile "$profile/$config"
  fi
done
if ((memory_steps > 0)); then
  echo "tiny: resident size over $memory_steps training steps (java)" >&2
  run_java tiny-memory "$tiny" "$work/tiny-inputs.safetensors" --steps-for-memory "$memory_steps"
fi

if [[ -n ${KEEP_RESULTS:-} ]]; then cp "$results" "$KEEP_RESULTS"; fi
python3 "$root/tools/bench/bench_table.py" "$results"
