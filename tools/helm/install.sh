#!/usr/bin/env bash
# Builds the helm CLI (used to lint and render the chart in tests) from its Go module, since no
# binary download site is reachable. Idempotent: returns at once when the binary is in place.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HELM_VERSION="$(cat "$here/HELM_VERSION")"
bin_dir="${CE_TOOLS_DIR:-$HOME/.cache/concept-erasure/bin}"
target="$bin_dir/helm-${HELM_VERSION}-k8s1.34"
if [[ -x "$target" ]]; then
  ln -sfn "$target" "$bin_dir/helm"
  echo "helm: $target already built"
  exit 0
fi
command -v go >/dev/null || { echo "helm: the Go toolchain is required (go not found on PATH)" >&2; exit 1; }
mkdir -p "$bin_dir"
scratch="$(mktemp -d "$bin_dir/.build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
echo "helm: building v${HELM_VERSION}"
# The same ldflags as helm's Makefile: without them helm reports no version and assumes Kubernetes 1.20.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}"
for pkg in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1 -X helm.sh/helm/v3/${pkg}.k8sVersionMinor=34"
done
CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$scratch" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}"
"$scratch/helm" version --short
mv "$scratch/helm" "$target"
# The tests run $bin_dir/helm, which always points at the pinned version.
ln -sfn "$target" "$bin_dir/helm"
echo "helm: installed $target"
