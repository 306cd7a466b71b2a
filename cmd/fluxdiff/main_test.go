package main

import (
	"os"
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestMain starts one API server for the package's cluster-facing tests.
func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
