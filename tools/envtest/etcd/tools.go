//go:build tools

// Pins the etcd server main package that install.sh builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
