package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// treeDigest hashes every path, mode and content under root.
func treeDigest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h.Write([]byte(rel + "\x00" + info.Mode().String() + "\x00"))
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestBuildNeverWritesToTheTreeAndRunsConcurrently(t *testing.T) {
	root := writeTree(t, "default", map[string]string{
		// No kustomization.yaml: Flux generates one, which must stay in memory.
		"generated/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v}\n",
		"generated/sub/kustomization.yaml": "resources: [cm.yaml]\n",
		"generated/sub/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\n",
		"existing/kustomization.yaml":      "resources: [../generated/cm.yaml]\nnamePrefix: x-\n",
		".sourceignore":                    "generated/ignored.yaml\n",
		"generated/ignored.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored, namespace: default}\n",
	})
	before := treeDigest(t, root)
	ks := newKS("default", "app", "./generated")
	ks.Spec.TargetNamespace = "other" // forces a rewrite of the kustomization
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	names := make(chan string, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := ks.DeepCopy()
			if i%2 == 1 {
				k.Spec.Path = "./existing"
			}
			objs, err := Build(root, k, BuildOptions{})
			if err != nil {
				errs <- err
				return
			}
			for _, o := range objs {
				names <- k.Spec.Path + ":" + o.GetNamespace() + "/" + o.GetName()
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(names)
	for err := range errs {
		t.Fatal(err)
	}
	got := map[string]int{}
	for n := range names {
		got[n]++
	}
	want := map[string]int{"./generated:other/a": 4, "./generated:other/b": 4, "./existing:other/x-a": 4}
	if len(got) != len(want) {
		t.Errorf("built %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s built %d times, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if after := treeDigest(t, root); after != before {
		t.Errorf("the source tree changed during the build")
	}
	if _, err := os.Stat(filepath.Join(root, "generated", "kustomization.yaml")); err == nil {
		t.Errorf("a kustomization.yaml was written into the tree")
	}
}

func TestBuildErrors(t *testing.T) {
	root := writeTree(t, "default", map[string]string{
		"broken/ok.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
		"broken/broken.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n",
		"file.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\n",
		"escape/kustomization.yaml": "resources: [../../outside.yaml]\n",
	})
	tests := []struct {
		name, path string
		want       []string
	}{
		{"an invalid YAML file is named", "./broken", []string{"broken/broken.yaml"}},
		{"a missing path is a clear error", "./nope", []string{`spec.path "./nope" does not exist in the source tree`}},
		{"a path that is a file is a clear error", "./file.yaml", []string{"is a file, not a folder"}},
		{"a resource outside the source tree is refused", "./escape", []string{"outside.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(root, newKS("default", "app", tt.path), BuildOptions{})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), root) {
				t.Errorf("error names the absolute temp path: %q", err)
			}
		})
	}
}

func TestBuildHonoursTheGitRepositoryIgnore(t *testing.T) {
	root := writeTree(t, "default", map[string]string{
		"app/a.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
		"app/local-only.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local, namespace: default}\n",
		"app/nested/.keep.yml": "not: [valid\n",
	})
	objs, err := Build(root, newKS("default", "app", "./app"), BuildOptions{Ignore: "app/local-only.yaml\n/app/nested/\n"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != "a" {
		var names []string
		for _, o := range objs {
			names = append(names, o.GetName())
		}
		t.Errorf("built %v, want only a", names)
	}
}
