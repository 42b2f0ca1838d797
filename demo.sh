#!/usr/bin/env bash
# The README's main command: builds everything (tests skipped; `./mvnw -B verify` runs them) and
# runs the trainer's main job, `trainer erase`, on the bundled demo request, then shows the outputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
request="${1:-examples/requests/toy-circle-to-square.yaml}"
# Requests on the toy shapes model are judged by the toy world's shape classifier as well.
judge=()
if grep -q "examples/models/toy-shapes" "$request"; then
  judge=(--classifier examples/models/shape-classifier/classifier.safetensors)
fi

./mvnw -B -q -ntp package -DskipTests
trainer=(java -Dai.djl.offline=true -jar trainer/target/trainer.jar)

"${trainer[@]}" --help
echo
"${trainer[@]}" erase --request "$request" ${judge[@]+"${judge[@]}"}

out="$(sed -n 's/^output: *{uri: *\(.*\)}$/\1/p' "$request")"
echo
echo "Erased model in ${out}:"
ls -l "$out" "$out/unet"
echo "The record (erasure.json, written last) and the before/after images (evaluation.png) are there."
echo "The operator runs in a cluster: kubectl apply -f crds/ -f manifests/ (see docs/architecture.md)."
