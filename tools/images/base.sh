#!/usr/bin/env bash
# Builds the images' base (a minimal Debian bookworm root with OpenJDK 17's headless JRE and a
# non-root user 65532) from Debian's packages alone, no Docker daemon and no registry, and prints
# the path of the archive Jib reads it from (`<from><image>tar://PATH</image></from>`).
#
#   tools/images/base.sh            build it once (cached), print the docker-archive's path
#   tools/images/base.sh --rebuild  build it again even if cached
#   tools/images/base.sh --link F   also make F a symbolic link to it (the Maven build's
#                                   target/base-image.tar, which its Jib configuration names)
#
# Pinned, not yet bit-for-bit reproducible: mmdebstrap clamps every timestamp to SOURCE_DATE_EPOCH
# and the versions are written beside the archive (base.packages), but two builds of the same
# versions gave different layer digests (checked 2026-12-02; suspects: what umoci records of the
# unpacked files, the cacerts keystore the JRE's postinst generates). Debian's mirror moves with
# security updates; CE_DEBIAN_MIRROR may name a snapshot.debian.org archive to pin them.
# The cache key is this script's code: change the package set here and the base is rebuilt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${CE_CACHE_DIR:-$HOME/.cache/concept-erasure}/images"
mirror="${CE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${CE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suite=bookworm
# 2026-12-01T00:00:00Z: every file's mtime in the base.
export SOURCE_DATE_EPOCH=1796083200
created="2026-12-01T00:00:00Z"
ref="localhost/concept-erasure/base-jre17"
packages=(openjdk-17-jre-headless ca-certificates)

log() { echo "base: $*" >&2; }
die() { echo "base: $*" >&2; exit 1; }

rebuild=false
link=
while (($#)); do
  case "$1" in
    --rebuild) rebuild=true ;;
    --link) link="${2:?--link needs a path}"; shift ;;
    *) die "unknown argument $1 (see the header of ${BASH_SOURCE[0]})" ;;
  esac
  shift
done

finish() {
  if [[ -n "$link" ]]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$out/base.tar" "$link"
  fi
  echo "$out/base.tar"
}

# Comments do not change the image: they are not part of the key.
key="$( (grep -v '^ *#' "${BASH_SOURCE[0]}"; echo "$mirror $security") | sha256sum | cut -c1-16)"
out="$cache/base-jre17-$key"
if [[ $rebuild == false && -f "$out/base.tar" ]]; then
  finish
  exit 0
fi

# CI runs on a fresh Debian machine as root: bring the three tools from Debian's packages.
missing=()
for tool in mmdebstrap:mmdebstrap umoci:umoci skopeo:skopeo; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "needs ${missing[*]} (apt-get install ${missing[*]}), and is not root to install them"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } \
    || die "could not install ${missing[*]}"
fi

mkdir -p "$cache"
scratch="$(mktemp -d "$cache/.base.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
start=$(date +%s)

# minbase: essential + apt only. No docs, man pages or locales (copyright files stay): the JRE is
# all a container needs (the JRE's postinst links its man pages with update-alternatives, so man1
# must exist, empty). The user's home is /scratch, the pods' writable emptyDir.
log "mmdebstrap $suite (${packages[*]})"
mode=root
[[ $(id -u) -eq 0 ]] || mode=unshare
mmdebstrap --variant=minbase --mode="$mode" --format=tar \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='chroot "$1" groupadd --system --gid 65532 nonroot' \
  --customize-hook='chroot "$1" useradd --system --uid 65532 --gid 65532 --home-dir /scratch --no-create-home --shell /usr/sbin/nologin nonroot' \
  --customize-hook='mkdir -p "$1/scratch" && chown 65532:65532 "$1/scratch"' \
  --customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version}\n" > "$1/.packages"' \
  --customize-hook='mv "$1/.packages" '"$scratch/base.packages" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache' \
  "$suite" "$scratch/rootfs.tar" \
  "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main" >&2

# Root filesystem → OCI image (umoci) → docker-archive (skopeo), the form Jib's tar:// base reads.
layout="$scratch/layout"
bundle="$scratch/bundle"
umoci init --layout "$layout"
umoci new --image "$layout:base"
umoci unpack --image "$layout:base" "$bundle" >/dev/null
tar -xf "$scratch/rootfs.tar" -C "$bundle/rootfs" --numeric-owner
umoci repack --no-history --image "$layout:base" "$bundle"
umoci config --no-history --image "$layout:base" --created "$created" \
  --config.user 65532:65532 --config.workingdir /scratch \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
  --config.env HOME=/scratch \
  --config.label "org.opencontainers.image.description=Debian $suite minbase with OpenJDK 17 JRE (headless), user 65532" \
  --config.label "org.opencontainers.image.source=https://github.com/concepterasure/concept-erasure-operator"
umoci gc --layout "$layout"
skopeo copy --quiet "oci:$layout:base" "docker-archive:$scratch/base.tar:$ref:$key" >&2

# Record what it holds: the package versions and the layer's digest (the reproducibility check).
skopeo inspect --raw "oci:$layout:base" >"$scratch/base.manifest.json"
mkdir -p "$out.new"
mv "$scratch/base.tar" "$scratch/base.packages" "$scratch/base.manifest.json" "$out.new/"
rm -rf "$out"
mv "$out.new" "$out"
log "built in $(($(date +%s) - start)) s: $out/base.tar ($(du -h "$out/base.tar" | cut -f1))"
finish
