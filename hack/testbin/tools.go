//go:build tools

// Package testbin pins the commands that hack/testbin/build.sh compiles.
package testbin

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
