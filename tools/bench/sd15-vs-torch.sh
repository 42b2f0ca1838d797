#!/usr/bin/env bash
# The trainer against PyTorch eager at full Stable Diffusion 1.5 size (random weights, diffusers
# layout, made by tools/parity/make_sd15.py), side by side in one run, same threads:
#   - one UNet training step (forward, MSE, backward, Adam over --train-params) and one inference
#     step (guidance batch 2), batch 2 at 64x64 latents, each runtime's own process: peak RSS, times;
#   - `generate`, --steps DDIM steps, CFG 7.5, 512x512, whole process: peak RSS, wall time.
# Prints one JSON line per run (also kept in $KEEP_RESULTS if set).
#
#   flock /tmp/ce-build.lock tools/bench/sd15-vs-torch.sh [--model DIR] [--threads 2]
#       [--train-params crossAttention] [--steps 2] [--only train|generate] [--java-opts '...']
#       [--gradient-checkpointing]   (both runtimes recompute resnets and transformer blocks in backward)
#       [--warmup N]   (training steps before the timed one, default 0; 1 puts Adam's moments, which
#                       PyTorch allocates in its first step and the trainer up front, in both peaks)
#       [--java-only]   (the trainer alone, e.g. before/after a change; not a comparison)
#       [--torch-also PYTHON]   (the step also under another PyTorch, e.g. a venv with torch 2.7.1,
#                                the libtorch version DJL 0.36 runs: tells the runtime's cost from
#                                the kernels')
#
# Full-size runs take 6-16 GB each: run it inside a memory cgroup (docs/benchmarks.md shows how).
# Needs trainer/target/trainer.jar and a venv with tools/parity/requirements.txt ($PYTHON).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$root/tools/parity/.venv/bin/python}
jar=${TRAINER_JAR:-$root/trainer/target/trainer.jar}
model=${HOME}/.cache/concept-erasure/sd15
threads=2
params=crossAttention
steps=2
only=
java_opts=
java_only=
torch_also=
checkpointing=
warmup=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --train-params) params=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --java-opts) java_opts=$2; shift 2 ;;
    --java-only) java_only=1; shift ;;
    --torch-also) torch_also=$2; shift 2 ;;
    --gradient-checkpointing) checkpointing=--gradient-checkpointing; shift ;;
    --warmup) warmup=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "sd15-vs-torch.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x $python ]] || { echo "sd15-vs-torch.sh: no Python at $python (set PYTHON)" >&2; exit 2; }
[[ -f $jar ]] || { echo "sd15-vs-torch.sh: no $jar (mvn -pl trainer -am package -DskipTests)" >&2; exit 2; }
if [[ ! -f $model/model_index.json ]]; then
  echo "making the SD 1.5 pipeline in $model" >&2
  "$python" "$root/tools/parity/make_sd15.py" "$model"
fi

work=$(mktemp -d /tmp/sd15-vs-torch.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$work/results.jsonl
"$python" "$root/tools/parity/bench_torch.py" --model "$model" --batch 2 \
  --save-inputs "$work/inputs.safetensors" --no-bench 2>/dev/null

if [[ $only != generate ]]; then
  echo "train/infer step: java" >&2
  # shellcheck disable=SC2086
  java $java_opts -jar "$jar" bench --model "$model" --inputs "$work/inputs.safetensors" \
    --threads "$threads" --warmup "$warmup" --iterations 1 --train-params "$params" $checkpointing 2>"$work/java-bench.err" \
    | tail -n 1 | sed 's/^{/{"config":"sd15","what":"unet-step",/' >>"$results" \
    || { tail -n 5 "$work/java-bench.err" >&2; }
  tail -n 1 "$results" >&2
  [[ -n $java_only ]] || { echo "train/infer step: torch" >&2
  "$python" "$root/tools/parity/bench_torch.py" --model "$model" --inputs "$work/inputs.safetensors" \
    --threads "$threads" --warmup "$warmup" --repeat 1 --train "$params" $checkpointing 2>/dev/null \
    | tail -n 1 | sed 's/^{/{"config": "sd15", "what": "unet-step",/' >>"$results"
  tail -n 1 "$results" >&2; }
  if [[ -n $torch_also ]]; then
    echo "train/infer step: torch ($torch_also)" >&2
    "$torch_also" "$root/tools/parity/bench_torch.py" --model "$model" --inputs "$work/inputs.safetensors" \
      --threads "$threads" --warmup "$warmup" --repeat 1 --train "$params" $checkpointing 2>/dev/null \
      | tail -n 1 | sed 's/^{/{"config": "sd15", "what": "unet-step",/' >>"$results"
    tail -n 1 "$results" >&2
  fi
fi
if [[ $only != train ]]; then
  echo "generate: java" >&2
  # shellcheck disable=SC2086
  /usr/bin/time -f '%M %e' -o "$work/java-time" java $java_opts -Dai.djl.pytorch.num_threads="$threads" \
    -Dai.djl.pytorch.num_interop_threads=1 -jar "$jar" generate --model "$model" \
    --prompt "a photo of a cat" --steps "$steps" --output "$work/java.png" >/dev/null 2>"$work/java-gen.err" \
    || { tail -n 5 "$work/java-gen.err" >&2; }
  read -r kb secs <"$work/java-time"
  echo "{\"config\":\"sd15\",\"what\":\"generate\",\"runtime\":\"java-djl\",\"steps\":$steps,\"threads\":$threads,\"total_s\":$secs,\"peak_rss_mb\":$((kb / 1024))}" >>"$results"
  tail -n 1 "$results" >&2
  [[ -n $java_only ]] || { echo "generate: torch" >&2
  /usr/bin/time -f '%M %e' -o "$work/torch-time" "$python" "$root/tools/bench/generate_torch.py" \
    --model "$model" --steps "$steps" --threads "$threads" --output "$work/torch.png" \
    2>/dev/null | sed 's/^{/{"config": "sd15", "what": "generate",/' >>"$results"
  tail -n 1 "$results" >&2; }
fi
if [[ -n ${KEEP_RESULTS:-} ]]; then cp "$results" "$KEEP_RESULTS"; fi
cat "$results"
