#!/usr/bin/env bash
# Builds libconcepterasure_ops.so (concepterasure_ops.cpp) into the trainer's classes, so the
# shaded jar carries it. Run by the Maven build (trainer/pom.xml, phase compile); fails the build
# loudly when it cannot build. Needs g++, unzip, python3 with pip (first run only) and a JDK.
#
#   build.sh OUT_DIR NATIVE_JAR JAVA_HOME
#
# Inputs, cached under ${CONCEPTERASURE_CACHE:-~/.cache/concept-erasure} (outside the repo):
# - the headers of PyPI's torch==2.7.1 wheel (the version of DJL's libtorch; the wheel, 821 MB, is
#   downloaded once with pip and checked against its sha256; only torch/include is unpacked);
# - DJL's own libtorch_cpu.so and libc10.so, unpacked from the pytorch-native-cpu jar, to link
#   against by soname (no rpath: at run time the loader binds to the copy DJL has loaded).
set -euo pipefail

out_dir="$1"
native_jar="$2"
java_home="$3"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/concepterasure_ops.cpp"
lib="$out_dir/libconcepterasure_ops.so"

torch_version=2.7.1
wheel=torch-2.7.1-cp311-cp311-manylinux_2_28_x86_64.whl
wheel_sha256=06eea61f859436622e78dd0cdd51dbc8f8c6d76917a9cf0555a333f9eac31ec1
cache="${CONCEPTERASURE_CACHE:-$HOME/.cache/concept-erasure}"
headers="$cache/torch-$torch_version-headers/torch/include"
libs="$cache/libtorch-$torch_version-cpu"

fail() {
  echo "native build: $*" >&2
  exit 1
}

if [[ -f "$lib" && "$lib" -nt "$src" && "$lib" -nt "$0" ]]; then
  exit 0
fi
[[ -f "$native_jar" ]] || fail "DJL's native jar not found at $native_jar"
[[ -f "$java_home/include/jni.h" ]] || fail "no JDK headers at $java_home/include (a JDK, not a JRE, is needed)"
command -v g++ >/dev/null || fail "g++ not found (apt-get install g++)"
command -v unzip >/dev/null || fail "unzip not found (apt-get install unzip)"
mkdir -p "$cache"

# One builder at a time per cache (other worktrees share it); the lock is the cache's own.
exec 8>"$cache/.native-build.lock"
flock 8

if [[ ! -f "$headers/ATen/ops/scaled_dot_product_attention_ops.h" ]]; then
  if [[ ! -f "$cache/wheels/$wheel" ]]; then
    echo "native build: downloading $wheel from PyPI (821 MB, once) into $cache/wheels" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_28_x86_64 "torch==$torch_version" -d "$cache/wheels.tmp" ||
      fail "could not download torch==$torch_version from PyPI"
    mkdir -p "$cache/wheels"
    mv "$cache/wheels.tmp/$wheel" "$cache/wheels/$wheel"
    rm -rf "$cache/wheels.tmp"
  fi
  echo "$wheel_sha256  $cache/wheels/$wheel" | sha256sum --check --quiet ||
    fail "$cache/wheels/$wheel does not have the expected sha256; delete it and rebuild"
  rm -rf "$cache/torch-$torch_version-headers.tmp"
  unzip -q "$cache/wheels/$wheel" 'torch/include/*' -d "$cache/torch-$torch_version-headers.tmp"
  rm -rf "$cache/torch-$torch_version-headers"
  mv "$cache/torch-$torch_version-headers.tmp" "$cache/torch-$torch_version-headers"
fi

if [[ ! -f "$libs/libtorch_cpu.so" || "$libs/libtorch_cpu.so" -ot "$native_jar" ]]; then
  rm -rf "$libs.tmp"
  unzip -q -j "$native_jar" 'pytorch/cpu/linux-x86_64/libtorch_cpu.so' \
    'pytorch/cpu/linux-x86_64/libc10.so' -d "$libs.tmp"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
fi

mkdir -p "$out_dir"
# The C++11 ABI, as DJL's libtorch (and the wheel's TorchConfig.cmake) use; --no-undefined proves
# the headers match the library's exports.
g++ -std=c++17 -shared -fPIC -O2 -D_GLIBCXX_USE_CXX11_ABI=1 \
  -I"$headers" -I"$headers/torch/csrc/api/include" \
  -I"$java_home/include" -I"$java_home/include/linux" \
  "$src" -o "$lib.tmp" \
  -Wl,--no-undefined "$libs/libtorch_cpu.so" "$libs/libc10.so" ||
  fail "g++ failed on $src"
mv "$lib.tmp" "$lib"
