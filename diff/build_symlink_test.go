package diff

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBuildDoesNotFollowSymlinks: source-controller's archiver keeps regular
// files and folders only ("Ignore anything that is not a file or directories
// e.g. symlinks" in its storage Archive), so kustomize-controller never sees a
// symlink: a linked manifest is not in a generated kustomization, a
// kustomization.yaml naming one fails to build, and a spec.path through one
// does not exist.
func TestBuildDoesNotFollowSymlinks(t *testing.T) {
	outside := writeTree(t, "default", map[string]string{
		"secret.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside, namespace: default}\n",
	})
	root := writeTree(t, "default", map[string]string{
		"app/cm.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: real, namespace: default}\n",
		"shared/cm.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: default}\n",
		"shared/kustomization.yaml":       "resources: [cm.yaml]\n",
		"explicit/kustomization.yaml":     "resources: [linked.yaml]\n",
		"explicit-dir/kustomization.yaml": "resources: [linked]\n",
		"ignoring/kustomization.yaml":     "resources: [cm.yaml, local.yaml]\n",
		"ignoring/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: default}\n",
		"ignoring/local.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local, namespace: default}\n",
		"ignoring/.sourceignore":          "local.yaml\n",
		"linked-kfile/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lk, namespace: default}\n",
	})
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	link("../shared/cm.yaml", "app/linked.yaml")
	link(filepath.Join(outside, "secret.yaml"), "app/escape.yaml")
	link("../shared", "app/linked-dir")
	link("../shared/cm.yaml", "explicit/linked.yaml")
	link("../shared", "explicit-dir/linked")
	link("shared", "via-link")
	link("../shared/kustomization.yaml", "linked-kfile/kustomization.yaml")

	t.Run("a generated kustomization leaves linked files and folders out", func(t *testing.T) {
		objs, err := Build(root, newKS("default", "app", "./app"), BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range objs {
			names = append(names, o.GetName())
		}
		if !slices.Equal(names, []string{"real"}) {
			t.Errorf("built %v, want only the regular file's object", names)
		}
	})
	for _, tt := range []struct{ name, path, want string }{
		{"a kustomization.yaml naming a linked file fails", "./explicit", "linked.yaml"},
		{"a kustomization.yaml naming a linked folder fails", "./explicit-dir", "linked"},
		{"a spec.path through a symlink does not exist", "./via-link", `spec.path "./via-link" does not exist`},
		// The controller's generator uses a kustomization file as written; the
		// artifact lacks the ignored file, so kustomize fails on it.
		{"a kustomization.yaml naming an ignored file fails", "./ignoring", "local.yaml"},
		{"a symlinked kustomization.yaml is named", "./linked-kfile", "linked-kfile/kustomization.yaml is a symlink or ignored"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Build(root, newKS("default", "app", tt.path), BuildOptions{})
			if err == nil {
				t.Fatalf("built %d objects through a symlink, want an error", len(objs))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}
