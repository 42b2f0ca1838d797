#!/usr/bin/env bash
# Runs an OCI image archive (Jib's trainer-image.tar, operator-image.tar) the way the cluster's
# pods run it: unpacked by umoci, started by runc as the image's user (65532) with a read-only
# root filesystem, no capabilities, no new privileges, and empty writable folders at /scratch and
# /tmp (the pods' emptyDirs). No Docker daemon is involved. Needs root (runc), as the cluster's kubelet does.
#
#   tools/images/run.sh [OPTIONS] ARCHIVE [-- ARG...]
#     --bind SRC:DST[:ro]  bind-mount a host path (read-write unless :ro)
#     --env NAME=VALUE     add to the image's environment
#     --host-network       share the host's network namespace (default: a new, empty one; not
#                          even loopback is up, so nothing is reachable)
#     --netns PATH         join this network namespace instead (e.g. /run/netns/NAME)
#     --entrypoint PATH    replace the image's entrypoint (the image's args are dropped too)
#     --timeout SECONDS    kill the container after this long (default 600); exit 124
#   ARGs replace the image's default arguments (its Cmd), as a pod's `args:` does.
# Exit status: the container's.
set -euo pipefail

die() { echo "run: $*" >&2; exit 1; }

binds=() envs=() network=new netns_path= entrypoint= timeout_s=600
while (($#)); do
  case "$1" in
    --bind) binds+=("${2:?--bind needs SRC:DST}"); shift ;;
    --env) envs+=("${2:?--env needs NAME=VALUE}"); shift ;;
    --host-network) network=host ;;
    --netns) network=path; netns_path="${2:?--netns needs a path}"; shift ;;
    --entrypoint) entrypoint="${2:?--entrypoint needs a path}"; shift ;;
    --timeout) timeout_s="${2:?--timeout needs seconds}"; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
  shift
done
archive="${1:?usage: run.sh [OPTIONS] ARCHIVE [-- ARG...]}"
shift
[[ "${1:-}" == "--" ]] && shift
[[ -f "$archive" ]] || die "$archive: no such image archive (build it with ./mvnw package)"
[[ $(id -u) -eq 0 ]] || die "runc needs root here (as the kubelet has)"

missing=()
for tool in umoci runc jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "run: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } \
    || die "could not install ${missing[*]}"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ce-image-run.XXXXXX")"
id="ce-$(basename "$work" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
state="$work/runc"
cleanup() {
  runc --root "$state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The archive is an OCI image layout; its index names the image (Jib: the full reference).
mkdir "$work/oci"
tar -xf "$archive" -C "$work/oci"
ref="$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' "$work/oci/index.json")"
[[ -n "$ref" ]] || die "$archive: index.json names no image (org.opencontainers.image.ref.name)"
umoci unpack --image "$work/oci:$ref" "$work/bundle" >/dev/null
blob() { echo "$work/oci/blobs/${1%%:*}/${1#*:}"; }
manifest="$(blob "$(jq -r '.manifests[0].digest' "$work/oci/index.json")")"
image_config="$(blob "$(jq -r '.config.digest' "$manifest")")"

# The pods' emptyDir volumes: host folders anyone may write (runc would give a tmpfs the mode of
# the image's folder beneath it, not the emptyDir's 0777).
mkdir -p "$work/volumes/scratch" "$work/volumes/tmp"
chmod 1777 "$work/volumes/scratch" "$work/volumes/tmp"

# The pod's security context: read-only root, no capabilities, no privilege gain; the image's user.
config="$work/bundle/config.json"
args_json='null'
if (($#)); then args_json="$(printf '%s\n' "$@" | jq -R . | jq -s .)"; fi
env_json="$(printf '%s\n' "${envs[@]+"${envs[@]}"}" | jq -R 'select(length > 0)' | jq -s .)"
mounts_json="$(
  for b in "${binds[@]+"${binds[@]}"}"; do
    IFS=: read -r src dst mode <<<"$b"
    [[ -e "$src" ]] || die "--bind $b: $src does not exist"
    opts='["rbind"]'
    [[ "$mode" == ro ]] && opts='["rbind","ro"]'
    jq -n --arg s "$(realpath "$src")" --arg d "$dst" --argjson o "$opts" \
      '{destination: $d, type: "bind", source: $s, options: $o}'
  done | jq -s .
)"
jq --argjson args "$args_json" --argjson env "$env_json" --argjson mounts "$mounts_json" \
 --arg volumes "$work/volumes" --slurpfile image "$image_config" --arg entrypoint "$entrypoint" --arg network "$network" --arg netns "$netns_path" '
  .root.readonly = true
  | .process.terminal = false
  | .process.noNewPrivileges = true
  | .process.capabilities = {bounding: [], effective: [], inheritable: [], permitted: [], ambient: []}
  | .process.env += $env
  | (if $entrypoint != "" then .process.args = [$entrypoint] + ($args // [])
     elif $args != null then .process.args = ($image[0].config.Entrypoint // []) + $args
     else . end)
  | .mounts += [
      {destination: "/scratch", type: "bind", source: ($volumes + "/scratch"), options: ["rbind", "nosuid", "nodev"]},
      {destination: "/tmp", type: "bind", source: ($volumes + "/tmp"), options: ["rbind", "nosuid", "nodev"]}
    ] + $mounts
  | .linux.namespaces |= (
      if $network == "host" then map(select(.type != "network"))
      elif $network == "path" then map(if .type == "network" then . + {path: $netns} else . end)
      else . end)
' "$config" >"$config.new"
mv "$config.new" "$config"

# In the background so that a TERM (a test stopping the operator) reaches this script at once;
# the EXIT trap then removes the container.
trap 'exit 143' TERM INT
timeout --kill-after=10 "$timeout_s" runc --root "$state" run --bundle "$work/bundle" "$id" </dev/null &
set +e
wait $!
status=$?
set -e
exit "$status"
