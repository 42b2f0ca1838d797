#!/usr/bin/env bash
# Builds the binaries that fabric8 kube-api-test runs (kube-apiserver, kubectl, etcd)
# from their Go modules, since no binary download site is reachable from our machines.
# Idempotent: a second run with the binaries in place returns at once.
#
# Layout expected by kube-api-test: $KUBE_API_TEST_DIR/k8s/<X.Y.Z>-linux-amd64/{kube-apiserver,etcd,kubectl}
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="$(cat "$here/K8S_VERSION")"
ETCD_VERSION="$(cat "$here/ETCD_VERSION")"
target_root="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}"
target="$target_root/k8s/${K8S_VERSION}-linux-amd64"

if [[ -x "$target/kube-apiserver" && -x "$target/kubectl" && -x "$target/etcd" ]] \
   && [[ "$(cat "$target/.built-from" 2>/dev/null)" == "k8s=${K8S_VERSION} etcd=${ETCD_VERSION}" ]]; then
  echo "envtest: binaries for Kubernetes ${K8S_VERSION} / etcd ${ETCD_VERSION} already in $target"
  exit 0
fi

command -v go >/dev/null || { echo "envtest: the Go toolchain is required (go not found on PATH)" >&2; exit 1; }

mkdir -p "$target_root/k8s"
# Build into a scratch folder next to the target and move in last, so an interrupted
# build never leaves a folder that looks complete.
scratch="$(mktemp -d "$target_root/k8s/.build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/component-base/version.gitTreeState=clean"

echo "envtest: building kube-apiserver and kubectl v${K8S_VERSION} (first run: several minutes)"
(cd "$here/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$scratch/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
(cd "$here/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$scratch/kubectl" k8s.io/kubernetes/cmd/kubectl)

echo "envtest: building etcd v${ETCD_VERSION}"
(cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$scratch/etcd" go.etcd.io/etcd/server/v3)

"$scratch/kube-apiserver" --version
"$scratch/kubectl" version --client
# sed, not head: head exits after one line and etcd then dies of SIGPIPE (141 under pipefail).
"$scratch/etcd" --version | sed -n 1p

echo "k8s=${K8S_VERSION} etcd=${ETCD_VERSION}" > "$scratch/.built-from"
rm -rf "$target"
mv "$scratch" "$target"
trap - EXIT
echo "envtest: installed in $target"
