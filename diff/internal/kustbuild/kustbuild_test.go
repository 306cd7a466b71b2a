package kustbuild

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/kustomize"
	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// step is one build of a sequence: dir inside the tree at root.
type step struct{ root, dir string }

// outcome is a build's YAML or its error.
type outcome struct{ YAML, Err string }

// TestRunBuildsAsFluxDoes builds the same sequence of kustomizations with
// Run and with fluxcd/pkg/kustomize Build, the function kustomize-controller
// builds with, and expects the same output for every step. The sequence
// interleaves a kustomization with an `openapi:` custom schema (which turns a
// strategic-merge list replace into a merge by key) with the example
// repository's kustomizations and the same patch without the schema, so a
// schema leaking from one build into the next would show as a different
// output. Each implementation runs its whole sequence on its own: Build
// resets kyaml's global state when it returns, which would hide a leak of
// Run's.
func TestRunBuildsAsFluxDoes(t *testing.T) {
	openapiRoot, err := filepath.Abs("testdata/openapi")
	if err != nil {
		t.Fatal(err)
	}
	with := step{openapiRoot, filepath.Join(openapiRoot, "with-schema")}
	without := step{openapiRoot, filepath.Join(openapiRoot, "without-schema")}
	seq := []step{without, with, without}
	for _, repo := range []string{"flux2-kustomize-helm-example-classic", "flux2-kustomize-helm-example-2.7"} {
		seq = append(seq, kustomizationDirs(t, filepath.Join("..", "..", "..", "testdata", "realrepos", repo))...)
		seq = append(seq, with, without)
	}
	got := buildAll(t, seq, Run)
	want := buildAll(t, seq, kustomize.Build)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Run differs from fluxcd/pkg/kustomize Build (-Build +Run):\n%s", diff)
	}
	// The schema must matter, or the sequence proves nothing about leaks.
	if !strings.Contains(got[1].YAML, "name: a") || strings.Contains(got[0].YAML, "name: a") {
		t.Fatalf("want part a kept by the custom schema's merge key and dropped without it; got\n%s\n---\n%s", got[1].YAML, got[0].YAML)
	}
}

// TestRunParsesTheSchemaOnlyAfterItMayHaveChanged checks the saving: builds
// without an `openapi:` field share one parse of the built-in schema, and
// the build after one with a custom schema parses it again.
func TestRunParsesTheSchemaOnlyAfterItMayHaveChanged(t *testing.T) {
	root, err := filepath.Abs("testdata/openapi")
	if err != nil {
		t.Fatal(err)
	}
	build := func(dir string) {
		t.Helper()
		if _, err := Run(diskFS(t, root), filepath.Join(root, dir)); err != nil {
			t.Fatal(err)
		}
	}
	build("without-schema")
	before := parseCount()
	for range 3 {
		build("without-schema")
	}
	if n := parseCount() - before; n != 0 {
		t.Errorf("3 builds without a schema after a fresh state parsed the built-in schema %d times; want 0", n)
	}
	build("with-schema")
	build("without-schema")
	if n := parseCount() - before; n != 1 {
		t.Errorf("a build with a custom schema (from the fresh state) and the next build (after it) parsed %d times in all; want 1", n)
	}
	if _, err := Run(diskFS(t, root), filepath.Join(root, "missing")); err == nil {
		t.Fatal("a missing folder built")
	}
	build("without-schema")
	if n := parseCount() - before; n != 2 {
		t.Errorf("the build after a failed one parsed %d times in all; want 2", n)
	}
}

func parseCount() int {
	mu.Lock()
	defer mu.Unlock()
	return parses
}

// buildAll runs every step with build and records its output or error.
func buildAll(t *testing.T, seq []step, build func(filesys.FileSystem, string) (resmap.ResMap, error)) []outcome {
	t.Helper()
	out := make([]outcome, len(seq))
	for i, s := range seq {
		m, err := build(diskFS(t, s.root), s.dir)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		y, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		out[i].YAML = string(y)
	}
	return out
}

// kustomizationDirs returns every folder below root holding a
// kustomization.yaml, as steps rooted at root.
func kustomizationDirs(t *testing.T, root string) []step {
	t.Helper()
	root, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	var steps []step
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "kustomization.yaml" {
			steps = append(steps, step{root, filepath.Dir(p)})
		}
		return err
	})
	if err != nil || len(steps) < 5 {
		t.Fatalf("found %d kustomizations below %s: %v", len(steps), root, err)
	}
	return steps
}

func diskFS(t *testing.T, root string) filesys.FileSystem {
	t.Helper()
	if _, err := os.Stat(root); err != nil {
		t.Fatal(err)
	}
	f, err := fluxfs.MakeFsOnDiskSecure(root)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
