//go:build tools

// Pins the main packages that tools/envtest/install.sh (kube-apiserver, kubectl) and
// tools/cluster/cluster.sh (kubelet, kube-controller-manager, kube-scheduler, kube-proxy) build,
// so that `go mod tidy` keeps their dependencies.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
