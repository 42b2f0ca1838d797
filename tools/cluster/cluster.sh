#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, from binaries built here (no Docker, no registry,
# no download site): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy,
# containerd + runc (Debian packages), the bridge CNI plugin and a kubelet registered as a node.
# The shape follows kubernetes' hack/local-up-cluster.sh; the facts it rests on are in
# docs/architecture.md ("The local cluster").
#
#   cluster.sh install           packages (apt) and binaries (built once, cached in ~/.cache)
#   cluster.sh up                install, then start everything; returns when the node is Ready
#   cluster.sh down              stop everything and remove every process, mount, interface,
#                                iptables rule, cgroup and file it made
#   cluster.sh status            exit 0 when the cluster is up and its node Ready
#   cluster.sh env               KEY=VALUE lines: KUBECONFIG, the node address, ...
#   cluster.sh kubeconfig        the admin kubeconfig's path
#   cluster.sh import ARCHIVE [NAME]   import an OCI image archive (Jib's, umoci's) into the node;
#                                NAME (repository without tag) when the archive names a tag only
#
# Everything lives under $CE_CLUSTER_DIR (default /tmp/ce-cluster). Pods get addresses on a bridge
# that this script makes, on a subnet with no default route: they reach the host's bridge address
# (API server, the tests' S3 and model-hub servers) and the Service network, nothing else.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
K8S_VERSION="$(cat "$repo/tools/envtest/K8S_VERSION")"

state="${CE_CLUSTER_DIR:-/tmp/ce-cluster}"
tools_dir="${CE_TOOLS_DIR:-$HOME/.cache/concept-erasure}"
bin_dir="$tools_dir/cluster/k8s-${K8S_VERSION}"
images_dir="$tools_dir/cluster/images"
envtest_dir="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/${K8S_VERSION}-linux-amd64"

bridge="${CE_CLUSTER_BRIDGE:-ce0}"
pod_subnet="${CE_CLUSTER_POD_SUBNET:-10.213.0.0/24}"
service_subnet="${CE_CLUSTER_SERVICE_SUBNET:-10.213.1.0/24}"
node_name="${CE_CLUSTER_NODE_NAME:-ce-node}"
# The host's address on the bridge: the node's InternalIP, the API server's address and the
# pods' gateway. First address of the pod subnet.
node_ip="${pod_subnet%.*}.1"
service_ip="${service_subnet%.*}.1" # the `kubernetes` Service's ClusterIP
apiserver_port=6443
etcd_client_port=12379
etcd_peer_port=12380
pause_image="localhost/concept-erasure/pause:3.10"
probe_image="localhost/concept-erasure/probe:1"

packages=(containerd runc containernetworking-plugins umoci iptables conntrack openssl curl)
cni_bin=/usr/lib/cni

log() { echo "cluster: $*" >&2; }
die() {
  echo "cluster: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# install: packages and binaries

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] || die "packages missing (${missing[*]}); install them as root: apt-get install ${missing[*]}"
  log "installing ${missing[*]} (apt)"
  # Debian's containerd package would start a system containerd under systemd; this script runs
  # its own with its own socket, so a system one (if any) is left as it is.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq install -y \
    --no-install-recommends "${missing[@]}" >/dev/null
}

# kubelet, kube-controller-manager, kube-scheduler, kube-proxy from the module folder that
# tools/envtest/install.sh builds kube-apiserver from (same version, same ldflags).
build_kubernetes() {
  local stamp="k8s=${K8S_VERSION}"
  if [[ -x "$bin_dir/kubelet" && "$(cat "$bin_dir/.built-from" 2>/dev/null)" == "$stamp" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "the Go toolchain is required (go not found on PATH)"
  mkdir -p "$(dirname "$bin_dir")"
  # Build into a scratch folder and move in last: an interrupted build never looks complete.
  scratch="$(mktemp -d "$(dirname "$bin_dir")/.build.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT
  local minor ldflags
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/component-base/version.gitTreeState=clean"
  local name cgo
  for name in kubelet kube-controller-manager kube-scheduler kube-proxy; do
    # The kubelet needs cgo (cAdvisor, the cgroup and mount code); the others are static.
    cgo=0
    [[ $name == kubelet ]] && cgo=1
    log "building $name v${K8S_VERSION} (first run only; minutes on 2 cores)"
    (cd "$repo/tools/envtest/kubernetes" && CGO_ENABLED=$cgo GOFLAGS=-mod=mod GOTOOLCHAIN=local \
      go build -trimpath -ldflags "$ldflags" -o "$scratch/$name" "k8s.io/kubernetes/cmd/$name")
    "$scratch/$name" --version
  done
  echo "$stamp" >"$scratch/.built-from"
  rm -rf "$bin_dir"
  mv "$scratch" "$bin_dir"
  trap - EXIT
}

# The pause image (the pod sandbox) and the smoke test's probe image: a static Go binary each,
# made into an OCI image archive with umoci (no registry to pull registry.k8s.io/pause from).
build_images() {
  local stamp
  stamp="$( (cd "$here/images" && cat go.mod pause/*.go probe/*.go && declare -f build_image) | sha256sum | cut -c1-16)"
  if [[ -f "$images_dir/pause.tar" && -f "$images_dir/probe.tar" \
    && "$(cat "$images_dir/.built-from" 2>/dev/null)" == "$stamp" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "the Go toolchain is required (go not found on PATH)"
  mkdir -p "$(dirname "$images_dir")"
  scratch="$(mktemp -d "$(dirname "$images_dir")/.images.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT
  log "building the pause and probe images"
  (cd "$here/images" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$scratch/pause" ./pause)
  (cd "$here/images" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$scratch/probe" ./probe)
  build_image "$scratch" pause 3.10 65535 "$scratch/pause.tar"
  build_image "$scratch" probe 1 65532 "$scratch/probe.tar"
  rm -f "$scratch/pause" "$scratch/probe"
  echo "$stamp" >"$scratch/.built-from"
  rm -rf "$images_dir"
  mv "$scratch" "$images_dir"
  trap - EXIT
}

# build_image WORK BINARY TAG UID ARCHIVE: one layer holding /BINARY, run as UID.
build_image() {
  local work="$1" binary="$2" tag="$3" uid="$4" archive="$5"
  local layout="$work/$binary-layout" bundle="$work/$binary-bundle"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  install -m 0755 "$work/$binary" "$bundle/rootfs/$binary"
  umoci repack --image "$layout:$tag" "$bundle"
  umoci config --image "$layout:$tag" --config.entrypoint "/$binary" --config.user "$uid:$uid" \
    --config.workingdir / --author concept-erasure --os linux --architecture amd64
  umoci gc --layout "$layout"
  tar -C "$layout" -cf "$archive" oci-layout index.json blobs
  rm -rf "$layout" "$bundle"
}

cmd_install() {
  install_packages
  [[ -x "$envtest_dir/kube-apiserver" && -x "$envtest_dir/etcd" && -x "$envtest_dir/kubectl" ]] \
    || "$repo/tools/envtest/install.sh"
  build_kubernetes
  build_images
}

# ---------------------------------------------------------------------------------------------
# certificates and kubeconfigs

pki="$state/pki"

# cert NAME CN ORG SANS: a key and a certificate signed by the cluster CA (ORG and SANS may be "").
cert() {
  local name="$1" cn="$2" org="$3" sans="$4" subject="/CN=$2"
  [[ -n "$org" ]] && subject="/O=$org/CN=$cn"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subject" \
    -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$sans" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
  chmod 0600 "$pki/$name.key"
}

# kubeconfig NAME CERT: a kubeconfig for the client certificate CERT.
kubeconfig() {
  cat >"$state/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ce-cluster
  cluster:
    server: https://${node_ip}:${apiserver_port}
    certificate-authority: $pki/ca.crt
users:
- name: $1
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: $1@ce-cluster
  context: {cluster: ce-cluster, user: $1}
current-context: $1@ce-cluster
EOF
  chmod 0600 "$state/$1.kubeconfig"
}

make_pki() {
  [[ -f "$pki/.done" ]] && return 0
  mkdir -p "$pki"
  chmod 0700 "$pki"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -subj "/CN=ce-cluster-ca" \
    -days 30 -sha256 -out "$pki/ca.crt" 2>/dev/null
  chmod 0600 "$pki/ca.key"
  cert apiserver kube-apiserver "" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:${node_ip},IP:${service_ip},IP:127.0.0.1"
  # The API server's client identity toward kubelets; bound to system:kubelet-api-admin at start.
  cert apiserver-kubelet-client kube-apiserver-kubelet-client "" ""
  cert admin kubernetes-admin system:masters ""
  cert controller-manager system:kube-controller-manager "" ""
  cert scheduler system:kube-scheduler "" ""
  cert kube-proxy system:kube-proxy "" ""
  # The node's identity (the Node authorizer and NodeRestriction limit it to its own objects)
  # and its serving certificate, which the API server verifies for logs and exec.
  cert kubelet "system:node:${node_name}" system:nodes ""
  cert kubelet-serving "$node_name" "" "DNS:${node_name},IP:${node_ip}"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 0600 "$pki/sa.key"
  kubeconfig admin admin
  kubeconfig controller-manager controller-manager
  kubeconfig scheduler scheduler
  kubeconfig kube-proxy kube-proxy
  kubeconfig kubelet kubelet
  touch "$pki/.done"
}

# ---------------------------------------------------------------------------------------------
# processes

kubectl() { "$envtest_dir/kubectl" --kubeconfig "$state/admin.kubeconfig" "$@"; }

running() {
  local pid
  pid="$(cat "$state/run/$1.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# start NAME COMMAND...: run in the background in its own session, log to logs/NAME.log.
start() {
  local name="$1"
  shift
  running "$name" && return 0
  # 9>&-: the children must not inherit (and so hold) the lock on run/lock.
  setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$state/run/$name.pid"
}

# wait_for WHAT SECONDS COMMAND...: poll until COMMAND succeeds; fail at once when a process
# this script started has died, with the end of its log.
wait_for() {
  local what="$1" seconds="$2" i f name
  shift 2
  for ((i = 0; i < seconds * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    for f in "$state"/run/*.pid; do
      name="$(basename "$f" .pid)"
      if ! running "$name"; then
        tail -n 5 "$state/logs/$name.log" >&2
        die "$name exited while waiting for $what (log: $state/logs/$name.log)"
      fi
    done
    sleep 0.25
  done
  die "$what did not come up within ${seconds}s (logs: $state/logs/)"
}

# stop NAME...: SIGTERM to all at once, SIGKILL to those still there after 15 s.
stop() {
  local name pid pids=() i
  for name in "$@"; do
    pid="$(cat "$state/run/$name.pid" 2>/dev/null)" || continue
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for ((i = 0; i < 60 && ${#pids[@]} > 0; i++)); do
    for pid in "${!pids[@]}"; do
      kill -0 "${pids[$pid]}" 2>/dev/null || unset "pids[$pid]"
    done
    ((${#pids[@]} > 0)) && sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for name in "$@"; do rm -f "$state/run/$name.pid"; done
  return 0
}

start_etcd() {
  # --unsafe-no-fsync: a throwaway cluster's data need not survive a power cut; fsync on every
  # write makes the API server several times slower on a shared disk.
  start etcd "$envtest_dir/etcd" --name ce-cluster --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:${etcd_client_port}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_client_port}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer_port}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer_port}" \
    --initial-cluster "ce-cluster=http://127.0.0.1:${etcd_peer_port}" \
    --listen-metrics-urls "" --unsafe-no-fsync --log-level warn
}

start_apiserver() {
  start kube-apiserver "$envtest_dir/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${etcd_client_port}" \
    --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port "$apiserver_port" \
    --service-cluster-ip-range "$service_subnet" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --profiling=false --v 1
}

start_controller_manager() {
  # Every controller but the cloud ones and node IPAM (the bridge plugin's host-local IPAM hands
  # out pod addresses): the Job controller, garbage collector, TTL-after-finished controller,
  # root-CA publisher (kube-root-ca.crt, without which no pod mounts its ServiceAccount token),
  # node lifecycle (it lifts the not-ready taint the kubelet registers with) are all real.
  start kube-controller-manager "$bin_dir/kube-controller-manager" \
    --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 \
    --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-route,-service' \
    --leader-elect=false --profiling=false --v 1
}

start_scheduler() {
  start kube-scheduler "$bin_dir/kube-scheduler" \
    --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" \
    --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --profiling=false --v 1
}

start_containerd() {
  mkdir -p "$state/containerd" "$state/cni/net.d"
  cat >"$state/containerd/config.toml" <<EOF
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$state/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  stream_server_address = "127.0.0.1"
  # Sandbox network namespaces under our state folder rather than /var/run/netns.
  netns_mounts_under_state_dir = true
  # Machines without CAP_SYS_RESOURCE (this one) may raise a process's oom_score_adj but not
  # lower it; the kubelet asks -998 for sandboxes and -997 for Guaranteed containers, which runc
  # then fails to set ("can't get final child's PID from pipe: EOF"). Clamp them to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$state/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$state/cni/net.d"
EOF
  # The bridge plugin with host-local addresses on the pod subnet. Routes: the subnet itself
  # (the link) and the Service network through the host (kube-proxy's DNAT); no default route,
  # so nothing a pod sends can leave the machine. No masquerade.
  cat >"$state/cni/net.d/10-ce-cluster.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "ce-cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$state/cni/ipam",
        "ranges": [[{"subnet": "$pod_subnet", "gateway": "$node_ip"}]],
        "routes": [{"dst": "$service_subnet"}]
      }
    }
  ]
}
EOF
  start containerd containerd --config "$state/containerd/config.toml" --log-level warn
  wait_for containerd 30 ctr --address "$state/containerd/containerd.sock" version
}

ctr_() { ctr --address "$state/containerd/containerd.sock" --namespace k8s.io "$@"; }

# Not "ctr ... | grep -q": grep's early exit kills ctr with SIGPIPE, which pipefail reports.
has_image() { grep -F -x -q "$1" <<<"$(ctr_ images ls -q)"; }

# import_archive ARCHIVE [NAME]: the archive's index.json names the image, either in full (Jib:
# "localhost/x/trainer:0.1.0") or as a tag only (umoci: "1"), to which NAME is then prefixed.
import_archive() {
  local archive="$1" name="${2:-}" ref
  [[ -f "$archive" ]] || die "import: no such file: $archive"
  ref="$( (tar -xOf "$archive" index.json 2>/dev/null || tar -xOf "$archive" ./index.json 2>/dev/null) \
    | grep -o '"org.opencontainers.image.ref.name":"[^"]*"' | head -n 1 | cut -d'"' -f4)" \
    || true
  [[ -n "$ref" ]] || die "import: $archive is not an OCI image archive naming its image (no org.opencontainers.image.ref.name in index.json)"
  if [[ -z "$name" ]]; then
    [[ "$ref" == */* ]] || die "import: $archive names only the tag '$ref'; give the repository: import $archive <repository>"
    name="${ref%:*}"
  fi
  # --base-name both names a tag-only ref and keeps ctr from adding an import-<date> image.
  ctr_ images import --base-name "$name" "$archive" >/dev/null
  has_image "$name:${ref##*:}" \
    || die "import: $archive imported no image named $name:${ref##*:}"
  log "imported $name:${ref##*:}"
}

start_kube_proxy() {
  cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $state/kube-proxy.kubeconfig
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_subnet
bindAddress: $node_ip
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts only on the bridge address, and never on 127.0.0.1 (which would need route_localnet).
nodePortAddresses: ["${node_ip}/32"]
iptables:
  localhostNodePorts: false
# Leave the machine's conntrack settings alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
  start kube-proxy "$bin_dir/kube-proxy" --config "$state/kube-proxy.yaml" --v 1
}

# The kubelet's cgroup root, in every v1 hierarchy (it refuses to start without it). A new v1
# cpuset cgroup has no CPUs or memory nodes until given its parent's.
make_cgroup_root() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [[ "$hierarchy" == */unified/ ]] && continue
    mkdir -p "${hierarchy}ce-cluster"
  done
  if [[ -d /sys/fs/cgroup/cpuset/ce-cluster ]]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >/sys/fs/cgroup/cpuset/ce-cluster/cpuset.cpus
    cat /sys/fs/cgroup/cpuset/cpuset.mems >/sys/fs/cgroup/cpuset/ce-cluster/cpuset.mems
  fi
}

start_kubelet() {
  mkdir -p "$state/kubelet" "$state/kubelet-pod-logs"
  make_cgroup_root
  cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$state/containerd/containerd.sock
# cgroup v1 here (cgroup2 only at /sys/fs/cgroup/unified), driven directly, not through systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
# The pods' cgroups under one folder of our own, removed by 'down'.
cgroupRoot: /ce-cluster
failSwapOn: false
enforceNodeAllocatable: []
# A test node: never evict or collect the images this script imported.
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $state/kubelet-pod-logs
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
serializeImagePulls: false
maxPods: 32
registerNode: true
EOF
  start kubelet "$bin_dir/kubelet" --config "$state/kubelet.yaml" \
    --kubeconfig "$state/kubelet.kubeconfig" --root-dir "$state/kubelet" \
    --cert-dir "$state/kubelet/pki" --hostname-override "$node_name" --node-ip "$node_ip" --v 1
}

# The sysctls that the kubelet (kernel tunables) and the bridge plugin (ip_forward) set on the
# host; recorded before 'up' and put back by 'down'.
sysctls=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/ip_forward)

save_host_settings() {
  [[ -f "$state/host/sysctl" ]] && return 0
  mkdir -p "$state/host"
  local s
  for s in "${sysctls[@]}"; do
    [[ -f "/proc/sys/$s" ]] && echo "$s $(cat "/proc/sys/$s")"
  done >"$state/host/sysctl.tmp"
  local tool t d
  for tool in iptables ip6tables; do
    for t in filter nat mangle; do
      "$tool" -t "$t" -S | awk -v p="$tool $t" '$1 == "-N" {print p, $2}'
    done
  done >"$state/host/chains"
  for d in "${host_dirs[@]}"; do
    [[ -d "$d" ]] && echo "$d"
  done >"$state/host/dirs"
  mv "$state/host/sysctl.tmp" "$state/host/sysctl"
}

make_bridge() {
  ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
  ip addr replace "${node_ip}/${pod_subnet#*/}" dev "$bridge"
  ip link set "$bridge" up
  # The bridge plugin turns on ip_forward (isGateway). Pods have no default route, and these rules
  # make sure that even a pod that added one (NET_ADMIN) is never routed off the bridge.
  if ! iptables -S CE-CLUSTER-FORWARD >/dev/null 2>&1; then
    iptables -N CE-CLUSTER-FORWARD
    iptables -A CE-CLUSTER-FORWARD -i "$bridge" ! -o "$bridge" -j DROP
    iptables -A CE-CLUSTER-FORWARD -o "$bridge" ! -i "$bridge" -j DROP
    iptables -I FORWARD 1 -j CE-CLUSTER-FORWARD
  fi
}

node_ready() {
  [[ "$(kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]] \
    && [[ "$(kubectl get node "$node_name" -o jsonpath='{.spec.taints[*].key}')" != *node.kubernetes.io/not-ready* ]]
}

cmd_status() {
  [[ -f "$state/admin.kubeconfig" ]] || return 1
  local name
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kube-proxy kubelet; do
    running "$name" || return 1
  done
  node_ready
}

# A failed 'up' shows the end of each component's log and takes down what it started (the
# logs go with it; CE_CLUSTER_KEEP_FAILED=1 keeps everything for a look).
up_failed() {
  local code=$? f
  ((code == 0)) && return 0
  for f in "$state"/logs/*.log; do
    [[ -s "$f" ]] || continue
    echo "cluster: --- end of $(basename "$f")" >&2
    tail -n 8 "$f" >&2
  done
  if [[ -z "${CE_CLUSTER_KEEP_FAILED:-}" ]]; then
    log "up failed: taking down what it started"
    exec 9>&- # 'down' takes the lock itself
    (cmd_down) || true
  fi
  exit "$code"
}

cmd_up() {
  [[ $EUID -eq 0 ]] || die "up needs root (it makes a bridge, mounts, cgroups and iptables rules)"
  cmd_install
  mkdir -p "$state"/{run,logs,host}
  exec 9>"$state/run/lock"
  flock 9
  if cmd_status; then
    log "already up (KUBECONFIG=$state/admin.kubeconfig)"
    return 0
  fi
  local began=$SECONDS
  trap up_failed EXIT
  save_host_settings
  make_pki
  make_bridge
  start_etcd
  wait_for etcd 30 curl -fsS "http://127.0.0.1:${etcd_client_port}/health"
  start_apiserver
  wait_for kube-apiserver 60 kubectl get --raw /readyz
  # The API server talks to the kubelet (logs, exec) as kube-apiserver-kubelet-client.
  kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "ce-cluster:apiserver-kubelet-client"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kubelet-api-admin"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kube-apiserver-kubelet-client}]
EOF
  start_controller_manager
  start_scheduler
  start_containerd
  has_image "$pause_image" || import_archive "$images_dir/pause.tar" "${pause_image%:*}"
  has_image "$probe_image" || import_archive "$images_dir/probe.tar" "${probe_image%:*}"
  start_kube_proxy
  start_kubelet
  wait_for "node $node_name Ready" 120 node_ready
  # Pods need their namespace's ServiceAccount before they can be created.
  wait_for "the default ServiceAccount" 60 kubectl get serviceaccount default -n default
  trap - EXIT
  log "up in $((SECONDS - began)) s: KUBECONFIG=$state/admin.kubeconfig, node $node_name at $node_ip"
}

cmd_env() {
  echo "KUBECONFIG=$state/admin.kubeconfig"
  echo "CE_CLUSTER_DIR=$state"
  echo "CE_CLUSTER_NODE_IP=$node_ip"
  echo "CE_CLUSTER_NODE_NAME=$node_name"
  echo "CE_CLUSTER_POD_SUBNET=$pod_subnet"
  echo "CE_CLUSTER_SERVICE_SUBNET=$service_subnet"
  echo "CE_CLUSTER_KUBECTL=$envtest_dir/kubectl"
  echo "CE_CLUSTER_PROBE_IMAGE=$probe_image"
}

# ---------------------------------------------------------------------------------------------
# down

# Every container and sandbox, killed through containerd once the kubelet is gone (nothing in
# the cluster outlives 'down', so no pod needs a graceful stop; the bridge plugin's cleanup is
# done by removing the veths and the state folder that holds its address leases).
kill_tasks() {
  [[ -S "$state/containerd/containerd.sock" ]] && running containerd || return 0
  local task
  # Their ids name libcni's cached results (remove_network).
  ctr_ containers ls -q >>"$state/host/containers" 2>/dev/null
  for task in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill -s SIGKILL "$task" >/dev/null 2>&1
  done
  sleep 1
  for task in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks delete -f "$task" >/dev/null 2>&1
  done
}

# Shims outlive containerd; each one's pid is in its task folder.
kill_shims() {
  local f pid
  for f in "$state"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
  done
}

our_mounts() {
  awk -v root="$state/" 'index($5, root) == 1 {print $5}' /proc/self/mountinfo
}

unmount_all() {
  local mounts m
  # Deepest first; a lazy unmount for what is still busy.
  mapfile -t mounts < <(our_mounts | sort -r)
  for m in "${mounts[@]}"; do
    m="$(printf '%b' "$m")" # mountinfo escapes spaces as \040
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
}

bridge_ports() { ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1; }

remove_network() {
  local veth
  for veth in $(bridge_ports); do ip link delete "$veth" 2>/dev/null; done
  ip link delete "$bridge" 2>/dev/null
  # libcni keeps each attachment's result here (not configurable in containerd 1.6): ours are
  # those of our network and of the loopback network containerd adds to each of our sandboxes.
  rm -f /var/lib/cni/results/ce-cluster-* 2>/dev/null
  local id
  while read -r id; do
    [[ -n "$id" ]] && rm -f /var/lib/cni/results/cni-loopback-"$id"-* 2>/dev/null
  done < <(cat "$state/host/containers" 2>/dev/null)
}

# Chains that did not exist before 'up': the kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY and
# KUBE-IPTABLES-HINT, kube-proxy's KUBE-*, the bridge plugin's CNI-*, our CE-CLUSTER-FORWARD.
# Prints "tool table chain" lines.
our_chains() {
  local tool t chain
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    for t in filter nat mangle; do
      for chain in $("$tool" -t "$t" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep -E '^(KUBE|CNI|CE-CLUSTER)-'); do
        grep -F -x -q "$tool $t $chain" "$state/host/chains" 2>/dev/null || echo "$tool $t $chain"
      done
    done
  done
}

remove_iptables() {
  [[ -x "$bin_dir/kube-proxy" ]] && "$bin_dir/kube-proxy" --cleanup >/dev/null 2>&1
  local tool t chain rule
  # First every rule that jumps to one of our chains, then the chains.
  while read -r tool t chain; do
    "$tool" -t "$t" -S 2>/dev/null | grep -E -- "-j $chain( |\$)" | grep -v -- "^-A $chain " \
      | sed 's/^-A/-D/' | while read -r rule; do
        eval "$tool -t $t $rule" 2>/dev/null
      done
    "$tool" -t "$t" -F "$chain" 2>/dev/null
  done < <(our_chains)
  while read -r tool t chain; do
    "$tool" -t "$t" -X "$chain" 2>/dev/null
  done < <(our_chains)
}

our_cgroups() { ls -d /sys/fs/cgroup/*/ce-cluster 2>/dev/null; }

remove_cgroups() {
  local root
  for root in $(our_cgroups); do
    find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}

restore_host_settings() {
  [[ -f "$state/host/sysctl" ]] || return 0
  local s v
  while read -r s v; do
    [[ "$(cat "/proc/sys/$s")" == "$v" ]] || echo "$v" >"/proc/sys/$s"
  done <"$state/host/sysctl"
}

# Folders in fixed places that our components make: removed when they were not there before.
host_dirs=(/run/containerd /var/log/containers /var/lib/cni)

remove_host_dirs() {
  # The kubelet's links (a fixed path) to our pods' logs.
  find /var/log/containers -maxdepth 1 -type l -lname "$state/*" -delete 2>/dev/null
  local d
  for d in "${host_dirs[@]}"; do
    grep -F -x -q "$d" "$state/host/dirs" 2>/dev/null && continue
    # Only empty folders: whatever else is in them is not ours.
    find "$d" -depth -type d -empty -delete 2>/dev/null
  done
}

# What 'down' must have removed; prints each thing that is left.
leftovers() {
  local name pid s v d
  for f in "$state"/run/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "process $(basename "$f" .pid) ($pid)"
  done
  for pid in $(pgrep -f -- "$state/" 2>/dev/null); do
    [[ $pid -ne $$ ]] && echo "process $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-120)"
  done
  our_mounts | sed 's/^/mount /'
  ip link show "$bridge" >/dev/null 2>&1 && echo "interface $bridge"
  bridge_ports | sed 's/^/interface /'
  our_chains | sed 's/^/iptables chain /'
  our_cgroups | sed 's/^/cgroup /'
  if [[ -f "$state/host/sysctl" ]]; then
    while read -r s v; do
      [[ "$(cat "/proc/sys/$s")" == "$v" ]] || echo "sysctl $s=$(cat "/proc/sys/$s") (was $v)"
    done <"$state/host/sysctl"
  fi
  find /var/log/containers -maxdepth 1 -type l -lname "$state/*" 2>/dev/null | sed 's/^/log link /'
  for d in "${host_dirs[@]}"; do
    [[ -d "$d" ]] && ! grep -F -x -q "$d" "$state/host/dirs" 2>/dev/null && echo "folder $d"
  done
}

cmd_down() {
  [[ -d "$state" ]] || return 0
  [[ $EUID -eq 0 ]] || die "down needs root"
  mkdir -p "$state/run"
  exec 9>"$state/run/lock"
  flock 9
  # Best effort from here on: every step runs whatever the one before it left; what remains
  # is listed at the end.
  set +e +o pipefail
  stop kubelet kube-controller-manager kube-scheduler kube-proxy
  kill_tasks
  stop containerd
  kill_shims
  stop kube-apiserver # before etcd, or its shutdown waits for etcd until killed
  stop etcd
  unmount_all
  remove_network
  remove_iptables
  remove_cgroups
  restore_host_settings
  remove_host_dirs
  local left
  left="$(leftovers)"
  if [[ -n "$left" ]]; then
    echo "$left" | sed 's/^/cluster: left behind: /' >&2
    die "down did not remove everything (state kept in $state)"
  fi
  exec 9>&-
  rm -rf "$state"
  log "down"
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  kubeconfig) echo "$state/admin.kubeconfig" ;;
  import)
    [[ $# -ge 2 ]] || die "usage: cluster.sh import ARCHIVE [REPOSITORY]"
    running containerd || die "the cluster is not up (cluster.sh up)"
    import_archive "$2" "${3:-}"
    ;;
  *)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
