// The two tiny images the local cluster builds itself (no registry is reachable): the pod
// sandbox's pause process and the smoke test's probe. Standard library only.
module concepterasure.io/tools/cluster/images

go 1.24.0
