package diff

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Scenario tests for issue #15 (items 3, 4, 7, 8, 9, 11, 14): each expected
// value is what kustomize-controller does on apply, cited in the comment.

// TestScenarioSymlinkedManifestIsNotApplied: source-controller's archiver
// skips anything that is not a regular file or a folder (storage Archive:
// "Ignore anything that is not a file or directories e.g. symlinks"), so a
// manifest linked into spec.path is not in the artifact and the controller
// neither creates nor changes its object.
func TestScenarioSymlinkedManifestIsNotApplied(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: real, namespace: __NS__}\ndata: {a: b}\n",
		"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked, namespace: __NS__}\ndata: {a: b}\n",
	})
	if err := os.Symlink("../shared/cm.yaml", filepath.Join(root, "app", "linked.yaml")); err != nil {
		t.Fatal(err)
	}
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k, row{ActionCreated, "ConfigMap", ns.Name, "real"})
}
