#!/usr/bin/env bash
# GPU smoke test: erases on the toy model for N iterations on CUDA and on the CPU, compares the
# final UNet weights (tools/gpu/CompareWeights.java says which tolerance and why) and reports the
# time per iteration on each.
#
#   tools/gpu/smoke.sh              cuda vs cpu (needs an NVIDIA GPU and the CUDA libtorch:
#                                   PYTORCH_LIBRARY_PATH=<site-packages>/torch/lib, see
#                                   tools/images/trainer-cuda.sh --libs-only)
#   tools/gpu/smoke.sh --cpu-only   cpu vs cpu: what CI runs so that the script cannot rot
#   --iterations N                  default 20
# Prints one line per device and the comparison; exit 0 when the weights agree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
devices=(cuda cpu)
iterations=20
while (($#)); do
  case "$1" in
    --cpu-only) devices=(cpu cpu) ;;
    --iterations) iterations="${2:?}"; shift ;;
    *) echo "smoke: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
lr=3e-4
jar=trainer/target/trainer.jar
[[ -f "$jar" ]] || ./mvnw -B -ntp -q package -pl trainer -am -DskipTests -Dimage.skip=true
work="$(mktemp -d "${TMPDIR:-/tmp}/ce-gpu-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
jna=()
if [[ -n "${PYTORCH_LIBRARY_PATH:-}" ]]; then
  # DJL counts GPUs through JNA and an unversioned libcudart.so the wheels do not ship.
  jna=("-Djna.library.path=${PYTORCH_LIBRARY_PATH%/torch/lib}/nvidia/cuda_runtime/lib")
fi
i=0
for device in "${devices[@]}"; do
  i=$((i + 1))
  out="$work/$i-$device"
  start=$(date +%s.%N)
  java -Dai.djl.offline=true "${jna[@]+"${jna[@]}"}" -jar "$jar" erase \
    --model examples/models/toy-shapes --output "$out" \
    --concept "a red circle=a red square" --concept "a blue circle=a blue square" \
    --method allButOne --iterations "$iterations" --learning-rate "$lr" --seed 0 \
    --guidance-scale 3.0 --ddim-steps 20 --parameters crossAttention \
    --eval-prompt "a green square" --eval-seed 0 \
    --device "$device" --checkpoint-every 0 >"$work/$i.log" 2>&1 \
    || { cat "$work/$i.log" >&2; echo "smoke: erase on $device failed" >&2; exit 1; }
  end=$(date +%s.%N)
  grep -q "^device: $device" "$work/$i.log" || { echo "smoke: the trainer did not run on $device" >&2; cat "$work/$i.log" >&2; exit 1; }
  rate="$(grep -o '[0-9.]* it/s' "$work/$i.log" | tail -n 1 | cut -d' ' -f1)"
  printf 'smoke: %-5s %s iterations, %s it/s (%.3f s/iteration), %.1f s in all\n' \
    "$device" "$iterations" "${rate:-?}" "$(awk -v r="${rate:-0}" 'BEGIN { print (r > 0 ? 1 / r : 0) }')" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
done
unet=unet/diffusion_pytorch_model.safetensors
java -Dai.djl.offline=true -cp "$jar" tools/gpu/CompareWeights.java \
  "examples/models/toy-shapes/$unet" "$work/1-${devices[0]}/$unet" "$work/2-${devices[1]}/$unet" "$lr" "$iterations" \
  | sed 's/^/smoke: /'
