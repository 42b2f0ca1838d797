#!/usr/bin/env bash
# Builds the CUDA flavour of the trainer image, trainer/target/trainer-cuda-image.tar
# (ghcr.io/concepterasure/trainer:<version>-cuda), from the CPU image the Maven build made and
# PyPI's torch==2.7.1 (its CUDA 12.6 build) with the nvidia-*-cu12 wheels it pins, loaded by DJL
# through PYTORCH_LIBRARY_PATH with the cu128 JNI that ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0
# carries (it binds against the cu126 libraries). Offline at run time; no daemon, no registry.
#
#   tools/images/trainer-cuda.sh                 build the image (about 2.1 GB compressed)
#   tools/images/trainer-cuda.sh --libs-only DIR only lay the libraries out in DIR (for
#                                                tools/gpu/smoke.sh on a GPU host without images)
#
# Downloads about 3 GB of wheels once (cached under ~/.cache/concept-erasure/wheels-cuda) and needs
# about 15 GB of free disk while it builds. Needs python3 -m pip, unzip, umoci, skopeo and jq.
# Not run in CI (size); ../../docs/architecture.md ("The CUDA flavour") has what it holds and why.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${CE_CACHE_DIR:-$HOME/.cache/concept-erasure}"
wheels="$cache/wheels-cuda"
torch_version=2.7.1
jni_version=2.7.1-0.36.0
created="2026-12-01T00:00:00Z"
log() { echo "trainer-cuda: $*" >&2; }
die() { echo "trainer-cuda: $*" >&2; exit 1; }

libs_only=
if [[ "${1:-}" == "--libs-only" ]]; then libs_only="${2:?--libs-only needs a folder}"; fi
for tool in unzip jq; do command -v "$tool" >/dev/null || die "needs $tool"; done
python3 -m pip --version >/dev/null 2>&1 || die "needs python3 -m pip (to download the wheels)"

# 1. The wheels: torch (no dependencies) and exactly the nvidia-* versions it requires on Linux.
mkdir -p "$wheels"
pip_args=(--quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11
  --implementation cp --abi cp311 -d "$wheels")
# The fused-ops build caches the same torch wheel (for its headers): reuse it.
for w in "$cache"/wheels/torch-"$torch_version"-cp311-*.whl; do
  [[ -f "$w" && ! -e "$wheels/$(basename "$w")" ]] && ln -s "$w" "$wheels/"
done
torch_whl="$(ls "$wheels"/torch-"$torch_version"-cp311-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -z "$torch_whl" ]]; then
  log "downloading torch==$torch_version"
  python3 -m pip download "${pip_args[@]}" "torch==$torch_version"
  torch_whl="$(ls "$wheels"/torch-"$torch_version"-cp311-*.whl | head -n 1)"
fi
mapfile -t nvidia < <(unzip -p "$torch_whl" "torch-$torch_version.dist-info/METADATA" \
  | sed -n 's/^Requires-Dist: \(nvidia-[^ ;]*\).*platform_system == "Linux".*/\1/p')
((${#nvidia[@]})) || die "$torch_whl names no nvidia-* requirement: not the CUDA build"
for req in "${nvidia[@]}"; do
  name="${req%%==*}"; version="${req##*==}"
  ls "$wheels/${name//-/_}-$version"-*.whl >/dev/null 2>&1 && continue
  log "downloading $req"
  python3 -m pip download "${pip_args[@]}" --platform manylinux2014_x86_64 "$req"
done

# 2. The libraries the trainer loads, in the site-packages layout (they find each other by
#    relative RPATH). DJL loads every library in torch/lib: leave out the Python bindings.
work="$(mktemp -d "${TMPDIR:-/tmp}/ce-trainer-cuda.XXXXXX")"
trap 'rm -rf "$work"' EXIT
site="$work/stage/opt/pytorch"
mkdir -p "$site"
unzip -q -o "$torch_whl" 'torch/lib/*' -d "$site"
rm -f "$site"/torch/lib/{libtorch_python.so,libshm.so,libtorch_global_deps.so}
for whl in "$wheels"/nvidia_*.whl; do
  unzip -q -o "$whl" 'nvidia/*/lib/*' 'cusparselt/lib/*' -d "$site" 2>/dev/null || true
done
# 3. DJL's CUDA JNI beside libtorch (DJL looks there first), so nothing is written at run time.
jni_jar="$HOME/.m2/repository/ai/djl/pytorch/pytorch-jni/$jni_version/pytorch-jni-$jni_version.jar"
[[ -f "$jni_jar" ]] || (cd "$repo" && ./mvnw -B -ntp -q dependency:get "-Dartifact=ai.djl.pytorch:pytorch-jni:$jni_version" -Dtransitive=false)
unzip -p "$jni_jar" jnilib/linux-x86_64/cu128/libdjl_torch.so >"$site/torch/lib/libdjl_torch.so"
chmod 0755 "$site/torch/lib/libdjl_torch.so"
find "$site" -type d -exec chmod 0755 {} +
find "$site" -type f -exec chmod a+r {} +
log "libraries: $(find "$site" -name '*.so*' | wc -l) files, $(du -sh "$site" | cut -f1)"
if [[ -n "$libs_only" ]]; then
  mkdir -p "$libs_only"
  cp -a "$site/." "$libs_only/"
  echo "PYTORCH_LIBRARY_PATH=$(cd "$libs_only" && pwd)/torch/lib"
  exit 0
fi

# 4. The CPU image plus one layer with the libraries, its environment and entrypoint adjusted.
cpu="$repo/trainer/target/trainer-image.tar"
[[ -f "$cpu" ]] || die "$cpu is missing: run ./mvnw package -pl trainer -am -DskipTests first"
for tool in umoci skopeo; do command -v "$tool" >/dev/null || die "needs $tool (apt-get install $tool)"; done
layout="$work/oci"
mkdir "$layout"
tar -xf "$cpu" -C "$layout"
ref="$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$layout/index.json")"
[[ "$ref" == *-cpu ]] || die "$cpu is not the CPU flavour (its image is $ref)"
cuda_ref="${ref%-cpu}-cuda"
umoci unpack --image "$layout:$ref" "$work/bundle" >/dev/null
cp -a "$work/stage/opt" "$work/bundle/rootfs/"
umoci repack --image "$layout:cuda" --history.created "$created" \
  --history.created_by "tools/images/trainer-cuda.sh: torch==$torch_version (cu126) + nvidia-* wheels, cu128 JNI" \
  "$work/bundle"
blob() { echo "$layout/blobs/${1%%:*}/${1#*:}"; }
manifest="$(blob "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "cuda") | .digest' "$layout/index.json")")"
config="$(blob "$(jq -r '.config.digest' "$manifest")")"
# DJL counts GPUs through JNA and an unversioned libcudart.so the wheels do not ship: without
# this path a GPU node reports 0 GPUs. PYTORCH_FLAVOR stays unset: a "cu" flavour preloads nvrtc,
# which needs the driver's libcuda.so.1 and so fails before the trainer can say why on a node
# without a GPU.
mapfile -t entrypoint < <(jq -r '.config.Entrypoint[]' "$config")
args=(--config.entrypoint "${entrypoint[0]}" --config.entrypoint "-Djna.library.path=/opt/pytorch/nvidia/cuda_runtime/lib")
for a in "${entrypoint[@]:1}"; do args+=(--config.entrypoint "$a"); done
umoci config --image "$layout:cuda" --created "$created" --no-history "${args[@]}" \
  --config.env PYTORCH_LIBRARY_PATH=/opt/pytorch/torch/lib \
  --config.env PYTORCH_VERSION="$torch_version" \
  --config.label "org.opencontainers.image.description=Concept erasure trainer (DJL, PyTorch $torch_version CUDA 12.6)"
out="$repo/trainer/target/trainer-cuda-image.tar"
rm -f "$out.tmp"
skopeo copy --quiet "oci:$layout:cuda" "oci-archive:$out.tmp:$cuda_ref"
mv "$out.tmp" "$out"
log "built $out ($cuda_ref, $(du -h "$out" | cut -f1))"
echo "$out"
