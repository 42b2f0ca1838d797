// The smoke test's container: reports, as its termination message (one JSON line, as the
// trainer does), what a pod of the operator's shape sees on the local cluster's node: its user,
// whether the root filesystem is read-only, its seccomp mode, whether the API server answers at
// the `kubernetes` Service (KUBERNETES_SERVICE_HOST, through kube-proxy) with the pod's
// ServiceAccount token, and that an address outside the node's bridge is unreachable.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	report := map[string]any{
		"uid":          os.Getuid(),
		"gid":          os.Getgid(),
		"readOnlyRoot": readOnlyRoot(),
		"seccomp":      statusField("Seccomp"),
		"apiServer":    apiServer(),
		"outside":      dialOutside(os.Getenv("PROBE_OUTSIDE")),
	}
	line, _ := json.Marshal(report)
	fmt.Println(string(line))
	path := os.Getenv("PROBE_TERMINATION_PATH")
	if path == "" {
		path = "/dev/termination-log"
	}
	if err := os.WriteFile(path, line, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "probe: cannot write the termination message:", err)
		os.Exit(1)
	}
}

func readOnlyRoot() bool {
	f, err := os.Create("/probe-write-test")
	if err != nil {
		return strings.Contains(err.Error(), "read-only file system")
	}
	f.Close()
	os.Remove("/probe-write-test")
	return false
}

func statusField(name string) string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "error: " + err.Error()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, name+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, name+":"))
		}
	}
	return ""
}

// apiServer returns the HTTP status of GET /api at the kubernetes Service with the pod's token,
// verifying the server against the cluster CA that the ServiceAccount volume carries.
func apiServer() string {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" {
		return "no KUBERNETES_SERVICE_HOST"
	}
	token, err := os.ReadFile(serviceAccount + "/token")
	if err != nil {
		return "error: " + err.Error()
	}
	ca, err := os.ReadFile(serviceAccount + "/ca.crt")
	if err != nil {
		return "error: " + err.Error()
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	request, _ := http.NewRequest("GET", "https://"+net.JoinHostPort(host, port)+"/api", nil)
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	response, err := client.Do(request)
	if err != nil {
		return "error: " + err.Error()
	}
	response.Body.Close()
	return fmt.Sprint(response.StatusCode)
}

func dialOutside(address string) string {
	if address == "" {
		return ""
	}
	conn, err := net.DialTimeout("tcp", address, 3*time.Second)
	if err != nil {
		return "error: " + err.Error()
	}
	conn.Close()
	return "connected"
}
