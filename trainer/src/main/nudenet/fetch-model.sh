#!/usr/bin/env bash
# Puts NudeNet's detector (320n.onnx) and the licence files of the package it comes from into the
# trainer's classes, so the shaded jar and the image carry them (evaluation.detector: nudenet).
# Run by the Maven build (trainer/pom.xml, phase generate-resources). The model is not committed:
# it is taken from PyPI's nudenet 3.4.2 wheel, downloaded once with pip into
# ${CONCEPTERASURE_CACHE:-~/.cache/concept-erasure}/wheels and checked against its sha256, as
# src/main/native/build.sh does for torch. Checksums and licence: docs/nudenet.md.
#
#   fetch-model.sh OUT_DIR
set -euo pipefail

out_dir="$1"
version=3.4.2
wheel=nudenet-$version-py3-none-any.whl
wheel_sha256=5937dbd84e5d8e5de038f08ffea5a1bb50a08475776bf2b4795914ce0eaf0331
model_sha256=c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f
cache="${CONCEPTERASURE_CACHE:-$HOME/.cache/concept-erasure}"

fail() {
  echo "nudenet model: $*" >&2
  exit 1
}

if [[ -f "$out_dir/320n.onnx" && "$out_dir/320n.onnx" -nt "$0" ]]; then
  exit 0
fi
command -v unzip >/dev/null || fail "unzip not found (apt-get install unzip)"
mkdir -p "$cache"
exec 8>"$cache/.nudenet.lock"
flock 8

if [[ ! -f "$cache/wheels/$wheel" ]]; then
  echo "nudenet model: downloading $wheel from PyPI (10 MB, once) into $cache/wheels" >&2
  rm -rf "$cache/wheels.nudenet.tmp"
  python3 -m pip download --quiet --no-deps --only-binary=:all: "nudenet==$version" \
    -d "$cache/wheels.nudenet.tmp" || fail "could not download nudenet==$version from PyPI"
  mkdir -p "$cache/wheels"
  mv "$cache/wheels.nudenet.tmp/$wheel" "$cache/wheels/$wheel"
  rm -rf "$cache/wheels.nudenet.tmp"
fi
echo "$wheel_sha256  $cache/wheels/$wheel" | sha256sum --check --quiet ||
  fail "$cache/wheels/$wheel does not have the expected sha256; delete it and rebuild"

rm -rf "$out_dir.tmp"
mkdir -p "$out_dir.tmp"
unzip -q -j "$cache/wheels/$wheel" nudenet/320n.onnx "nudenet-$version.dist-info/LICENSE" \
  "nudenet-$version.dist-info/METADATA" -d "$out_dir.tmp"
echo "$model_sha256  $out_dir.tmp/320n.onnx" | sha256sum --check --quiet ||
  fail "320n.onnx in $wheel does not have the expected sha256"
touch "$out_dir.tmp/320n.onnx" # newer than this script: not fetched again
mv "$out_dir.tmp/LICENSE" "$out_dir.tmp/LICENSE-nudenet"
mv "$out_dir.tmp/METADATA" "$out_dir.tmp/METADATA-nudenet"
rm -rf "$out_dir"
mv "$out_dir.tmp" "$out_dir"
