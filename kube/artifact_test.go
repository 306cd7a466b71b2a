package kube

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// example27 is the copy of Flux's example repository in its 2.7 layout.
const example27 = "../testdata/realrepos/flux2-kustomize-helm-example-2.7"

// The expected destinations follow source-watcher's builder
// (internal/builder/builder.go): calculateGlobDestination strips the folder
// of a pattern ending in "/**" and keeps the whole match otherwise;
// applySingleDirectoryCopy puts a folder at dest/name; applySingleFileCopy
// puts a file at dest, or dest/name when to ends with "/";
// shouldExcludePath matches excludes against the path from the source root,
// from the pattern's literal prefix, and by file name for patterns without
// "/"; copyDirWithRoots skips excluded folders whole.
func TestCopyDestination(t *testing.T) {
	tests := []struct {
		name     string
		op       swapi.CopyOperation
		path     string
		want     string
		wantCopy bool
	}{
		{"dir/** drops the folder", swapi.CopyOperation{From: "@m/apps/base/**", To: "@artifact/base/"}, "apps/base/podinfo/release.yaml", "base/podinfo/release.yaml", true},
		{"dir/** into the root", swapi.CopyOperation{From: "@m/infrastructure/**", To: "@artifact/"}, "infrastructure/configs/kustomization.yaml", "configs/kustomization.yaml", true},
		{"dir/** does not reach a sibling", swapi.CopyOperation{From: "@m/apps/base/**", To: "@artifact/base/"}, "apps/staging/kustomization.yaml", "", false},
		{"another glob keeps the matched path", swapi.CopyOperation{From: "@m/apps/*.yaml", To: "@artifact/x/"}, "apps/a.yaml", "x/apps/a.yaml", true},
		{"a glob matches one segment", swapi.CopyOperation{From: "@m/apps/*.yaml", To: "@artifact/x/"}, "apps/sub/a.yaml", "", false},
		{"a folder goes to dest/name", swapi.CopyOperation{From: "@m/apps/base", To: "@artifact/lib"}, "apps/base/podinfo/ns.yaml", "lib/base/podinfo/ns.yaml", true},
		{"a file goes to dest", swapi.CopyOperation{From: "@m/values.yaml", To: "@artifact/cfg/v.yaml"}, "values.yaml", "cfg/v.yaml", true},
		{"a file goes to dest/name when to ends with /", swapi.CopyOperation{From: "@m/values.yaml", To: "@artifact/cfg/"}, "values.yaml", "cfg/values.yaml", true},
		{"exclude by file name", swapi.CopyOperation{From: "@m/apps/**", To: "@artifact/", Exclude: []string{"*.md"}}, "apps/base/README.md", "", false},
		{"exclude a folder relative to the pattern", swapi.CopyOperation{From: "@m/apps/**", To: "@artifact/", Exclude: []string{"base/**"}}, "apps/base/podinfo/ns.yaml", "", false},
		{"exclude keeps the rest", swapi.CopyOperation{From: "@m/apps/**", To: "@artifact/", Exclude: []string{"base/**"}}, "apps/staging/ks.yaml", "staging/ks.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCopy(tt.op)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.destination(tt.path)
			if got != tt.want || ok != tt.wantCopy {
				t.Errorf("destination(%s) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantCopy)
			}
		})
	}
}

// generatorsIn decodes the ArtifactGenerators of a manifest file.
func generatorsIn(t *testing.T, file string) []*swapi.ArtifactGenerator {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []*swapi.ArtifactGenerator
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
	for {
		var doc map[string]any
		if dec.Decode(&doc) != nil {
			return out
		}
		if doc["kind"] != swapi.ArtifactGeneratorKind {
			continue
		}
		g := &swapi.ArtifactGenerator{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(doc, g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
}

func treeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAssembleArtifactOfTheExampleRepository(t *testing.T) {
	g := generatorsIn(t, filepath.Join(example27, "clusters/staging/artifacts.yaml"))[0]
	want := map[string][]string{
		"apps": {"base/podinfo/kustomization.yaml", "base/podinfo/namespace.yaml", "base/podinfo/release.yaml", "base/podinfo/repository.yaml",
			"staging/kustomization.yaml", "staging/podinfo-values.yaml"},
		"infrastructure": {"configs/cluster-issuers.yaml", "configs/gateway.yaml", "configs/kustomization.yaml",
			"controllers/cert-manager.yaml", "controllers/envoy-gateway.yaml", "controllers/kustomization.yaml"},
	}
	for _, art := range g.Spec.OutputArtifacts {
		dir := t.TempDir()
		if err := AssembleArtifact(context.Background(), dir, art.Copy, map[string]ArtifactInput{"monorepo": {Root: example27}}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[art.Name], treeFiles(t, dir)); diff != "" {
			t.Errorf("artifact %s (-want +got):\n%s", art.Name, diff)
		}
	}
	t.Run("a glob that matches nothing fails as source-watcher fails", func(t *testing.T) {
		err := AssembleArtifact(context.Background(), t.TempDir(), []swapi.CopyOperation{{From: "@monorepo/nothing/**", To: "@artifact/"}},
			map[string]ArtifactInput{"monorepo": {Root: example27}})
		if err == nil || !strings.Contains(err.Error(), "no files match") {
			t.Errorf("err = %v, want no files match", err)
		}
	})
	t.Run("files the GitRepository ignores are not copied", func(t *testing.T) {
		dir := t.TempDir()
		err := AssembleArtifact(context.Background(), dir, []swapi.CopyOperation{{From: "@monorepo/apps/**", To: "@artifact/"}},
			map[string]ArtifactInput{"monorepo": {Root: example27, Ignore: "/apps/production/\n"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range treeFiles(t, dir) {
			if strings.HasPrefix(f, "production/") {
				t.Errorf("%s was copied though spec.ignore leaves it out", f)
			}
		}
	})
}

// index27 indexes the 2.7 example's staging cluster as Flux leaves it: the
// flux-system GitRepository, the ArtifactGenerator, the ExternalArtifacts
// it makes and the Kustomizations of clusters/staging.
func index27(t *testing.T) *Index {
	t.Helper()
	ix := NewIndex()
	ix.SetGitRepository("staging", gitRepo("flux-system", "flux-system", fleetURL, &sourcev1.GitRepositoryRef{Branch: "main"}))
	for _, g := range generatorsIn(t, filepath.Join(example27, "clusters/staging/artifacts.yaml")) {
		ix.SetArtifactGenerator("staging", g)
		for _, art := range g.Spec.OutputArtifacts {
			ix.SetExternalArtifact("staging", externalArtifact(g.Namespace, art.Name, g.Name))
		}
	}
	for _, f := range []string{"apps.yaml", "infrastructure.yaml"} {
		data, err := os.ReadFile(filepath.Join(example27, "clusters/staging", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, ks := range kustomizationsIn(data) {
			ix.SetKustomization("staging", ks)
		}
	}
	return ix
}

func externalArtifact(ns, name, generator string) *sourcev1.ExternalArtifact {
	return &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.ExternalArtifactSpec{SourceRef: &meta.NamespacedObjectKindReference{
			APIVersion: swapi.GroupVersion.String(), Kind: swapi.ArtifactGeneratorKind, Name: generator}}}
}

func TestIndexFollowsArtifactGenerators(t *testing.T) {
	ix := index27(t)
	want := []string{"staging/flux-system/apps", "staging/flux-system/infra-configs", "staging/flux-system/infra-controllers"}
	if diff := cmp.Diff(want, keysOf(ix.Lookup("git@github.com:example/fleet.git", "main"))); diff != "" {
		t.Errorf("lookup (-want +got):\n%s", diff)
	}
	apps := ix.List("")[0]
	if a := apps.Artifact; a == nil || a.Generator.Name != "flux-system" || a.Artifact != "apps" || a.Sources["monorepo"].Name != "flux-system" {
		t.Errorf("apps' artifact source = %+v, want generator flux-system, artifact apps, alias monorepo → GitRepository flux-system", a)
	}
	t.Run("a generator copying from an OCIRepository is not diffable, with the reason", func(t *testing.T) {
		g := generatorsIn(t, filepath.Join(example27, "clusters/staging/artifacts.yaml"))[0]
		g.Spec.Sources = append(g.Spec.Sources, swapi.SourceReference{Alias: "charts", Kind: sourcev1.OCIRepositoryKind, Name: "charts"})
		g.Spec.OutputArtifacts[1].Copy = append(g.Spec.OutputArtifacts[1].Copy, swapi.CopyOperation{From: "@charts/**", To: "@artifact/charts/"})
		ix.SetArtifactGenerator("staging", g)
		got := reasonsOf(ix.List(""))["staging/flux-system/apps"]
		if want := "ArtifactGenerator flux-system/flux-system: copies from OCIRepository flux-system/charts; OCIRepository sources are not diffable from a pull request"; got != want {
			t.Errorf("reason = %q, want %q", got, want)
		}
	})
	t.Run("a deleted generator leaves its Kustomizations listed with the reason", func(t *testing.T) {
		ix.DeleteArtifactGenerator(ObjectKey{Cluster: "staging", Namespace: "flux-system", Name: "flux-system"})
		if got := ix.Lookup(fleetURL, "main"); len(got) != 0 {
			t.Errorf("lookup = %v, want none", keysOf(got))
		}
		if got := reasonsOf(ix.List(""))["staging/flux-system/infra-configs"]; got != "ArtifactGenerator flux-system/flux-system not found" {
			t.Errorf("reason = %q", got)
		}
	})
}

func TestSelectMapsChangesThroughCopyRules(t *testing.T) {
	ix := index27(t)
	var builds atomic.Int32
	sel := NewSelector(countingBuild(&builds), 16)
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"a change to apps/base/podinfo selects apps", "apps/base/podinfo/namespace.yaml", []string{"staging/flux-system/apps"}},
		{"a change to the other cluster's overlay selects nothing", "apps/production/podinfo-values.yaml", []string{}},
		{"a change to infrastructure/configs selects infra-configs", "infrastructure/configs/cluster-issuers.yaml", []string{"staging/flux-system/infra-configs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sel.Select(context.Background(), SelectRequest{
				Root: example27, Changes: []FileChange{{Path: tt.file, Kind: Modified}},
				Candidates: ix.Lookup(fleetURL, "main"), Repo: fleetURL, Branch: "main",
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, selectedNames(t, got)); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
			for _, s := range got {
				if !strings.Contains(strings.Join(s.Reasons, ";"), tt.file) {
					t.Errorf("reasons %q do not name the repository path %s", s.Reasons, tt.file)
				}
			}
		})
	}
}

func TestSelectUsesTheCopyRulesOfTheMergeResult(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(example27)); err != nil {
		t.Fatal(err)
	}
	const file = "clusters/staging/artifacts.yaml"
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	// staging's apps artifact takes production's values instead.
	changed := strings.Replace(string(data), `        - from: "@monorepo/apps/staging/**"
          to: "@artifact/staging/"`, `        - from: "@monorepo/apps/staging/**"
          to: "@artifact/staging/"
        - from: "@monorepo/apps/production/podinfo-values.yaml"
          to: "@artifact/staging/podinfo-values.yaml"`, 1)
	if changed == string(data) {
		t.Fatal("the fixture's copy rules changed")
	}
	if err := os.WriteFile(filepath.Join(root, file), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	ix := index27(t)
	var builds atomic.Int32
	got, err := NewSelector(countingBuild(&builds), 4).Select(context.Background(), SelectRequest{
		Root: root, Changes: []FileChange{{Path: file, Kind: Modified}}, Candidates: ix.Lookup(fleetURL, "main"), Repo: fleetURL, Branch: "main",
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"staging/flux-system/apps"}, selectedNames(t, got)); diff != "" {
		t.Fatalf("selected (-want +got):\n%s", diff)
	}
	if ops := got[0].Entry.Artifact.Copy; len(ops) != 3 {
		t.Errorf("the selected entry carries %d copy rules, want the merge result's 3", len(ops))
	}
	if !strings.Contains(got[0].Reasons[0], "copy rules of its ArtifactGenerator flux-system/flux-system change in "+file) {
		t.Errorf("reasons = %q", got[0].Reasons)
	}
}
