// Command devcluster starts a local kube-apiserver and etcd with the Flux
// CRDs installed, writes a kubeconfig for it and runs until interrupted. It
// is for trying fluxdiff by hand:
//
//	export KUBEBUILDER_ASSETS=$(hack/testbin/build.sh)
//	go run ./hack/devcluster -out /tmp/dev.kubeconfig
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func main() {
	out := flag.String("out", filepath.Join(os.TempDir(), "fluxdiff-dev.kubeconfig"), "where to write the kubeconfig")
	flag.Parse()
	env, err := kubetest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
	defer env.Stop()
	dir, err := os.MkdirTemp("", "devcluster")
	if err == nil {
		var p string
		if p, err = env.Kubeconfig(dir); err == nil {
			err = os.Rename(p, *out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		return
	}
	fmt.Printf("API server %s ready; kubeconfig written to %s (Ctrl-C stops it)\n", env.Config.Host, *out)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
