package kube

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxdiff/fluxdiff/diff"
)

const fleetURL = "https://github.com/example/fleet"

// fleet copies testdata/fleet into a temp dir, writes the given files into
// it (an empty content removes the file) and returns its root.
func fleet(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/fleet")); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fleetIndex indexes the fixture's Flux objects as cluster "prod" has them.
func fleetIndex(t *testing.T) *Index {
	t.Helper()
	ix := NewIndex()
	ix.SetGitRepository("prod", gitRepo("flux-system", "flux-system", "ssh://git@github.com/example/fleet", &sourcev1.GitRepositoryRef{Branch: "main"}))
	files, err := filepath.Glob("testdata/fleet/clusters/prod/flux-system/*/ks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/fleet/clusters/prod/flux-system/gotk-sync.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ks := range kustomizationsIn(data) {
			ix.SetKustomization("prod", ks)
		}
	}
	if ix.Len() != 6 {
		t.Fatalf("fixture has %d Kustomizations, want 6", ix.Len())
	}
	return ix
}

// countingBuild is diff.Build counting its calls.
func countingBuild(n *atomic.Int32) BuildFunc {
	return func(root string, ks *kustomizev1.Kustomization, wrap func(filesys.FileSystem) filesys.FileSystem) error {
		n.Add(1)
		_, err := diff.Build(root, ks, diff.BuildOptions{WrapFS: wrap})
		return err
	}
}

func selectedNames(t *testing.T, sel []Selected) []string {
	t.Helper()
	out := []string{}
	for _, s := range sel {
		name := s.Entry.ObjectKey.String()
		if s.New {
			name += " (new)"
		}
		if s.BuildErr != nil {
			t.Errorf("%s does not build: %v", name, s.BuildErr)
		}
		out = append(out, name)
	}
	return out
}

const apiKS = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: api
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/frontend
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`

func TestSelect(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		changes []FileChange
		want    []string
	}{
		{
			name:    "a change to the shared component selects exactly its three consumers",
			files:   map[string]string{"components/shared/logging.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: logging\ndata:\n  LOG_LEVEL: debug\n"},
			changes: []FileChange{{Path: "components/shared/logging.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/backend", "prod/flux-system/frontend", "prod/flux-system/worker"},
		},
		{
			name:    "a change to one overlay selects that overlay alone",
			files:   map[string]string{"overlays/staging/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 2\n"},
			changes: []FileChange{{Path: "overlays/staging/replicas.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/staging"},
		},
		{
			name:    "a change to the base selects both overlays",
			changes: []FileChange{{Path: "base/configmap.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/production", "prod/flux-system/staging"},
		},
		{
			name:    "adding a ks.yaml selects the new Kustomization and the one that applies it",
			files:   map[string]string{"clusters/prod/flux-system/api/ks.yaml": apiKS},
			changes: []FileChange{{Path: "clusters/prod/flux-system/api/ks.yaml", Kind: Added}},
			want:    []string{"prod/flux-system/api (new)", "prod/flux-system/flux-system"},
		},
		{
			name:    "editing a ks.yaml selects its Kustomization and the one that applies it",
			changes: []FileChange{{Path: "clusters/prod/flux-system/worker/ks.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/flux-system", "prod/flux-system/worker"},
		},
		{
			name:    "removing a ks.yaml selects the Kustomization that prunes it",
			files:   map[string]string{"clusters/prod/flux-system/worker/ks.yaml": ""},
			changes: []FileChange{{Path: "clusters/prod/flux-system/worker/ks.yaml", Kind: Removed}},
			want:    []string{"prod/flux-system/flux-system"},
		},
		{
			name:    "a change to the README selects none",
			files:   map[string]string{"README.md": "# fleet\nNow with more words.\n"},
			changes: []FileChange{{Path: "README.md", Kind: Modified}},
			want:    []string{},
		},
		{
			name:    "a manifest that no kustomization.yaml lists selects none",
			files:   map[string]string{"apps/frontend/unused.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unused\n"},
			changes: []FileChange{{Path: "apps/frontend/unused.yaml", Kind: Added}},
			want:    []string{},
		},
		{
			name:  "renaming a file a build reads selects its readers",
			files: map[string]string{"components/shared/logging.yaml": "", "components/shared/log.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: logging\n", "components/shared/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - log.yaml\n"},
			changes: []FileChange{
				{Path: "components/shared/log.yaml", PreviousPath: "components/shared/logging.yaml", Kind: Renamed},
				{Path: "components/shared/kustomization.yaml", Kind: Modified},
			},
			want: []string{"prod/flux-system/backend", "prod/flux-system/frontend", "prod/flux-system/worker"},
		},
	}
	ix := fleetIndex(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var builds atomic.Int32
			s := NewSelector(countingBuild(&builds), 100)
			got, err := s.Select(context.Background(), SelectRequest{
				Root: fleet(t, tt.files), Commit: "0123abc", Changes: tt.changes,
				Candidates: ix.Lookup(fleetURL, "main"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, selectedNames(t, got)); diff != "" {
				t.Errorf("selection (-want +got):\n%s", diff)
				for _, s := range got {
					t.Logf("%s: %v", s.Entry.ObjectKey, s.Reasons)
				}
			}
		})
	}
}

func TestSelectNewKustomizationTakesItsSourceFromTheCandidates(t *testing.T) {
	s := NewSelector(countingBuild(new(atomic.Int32)), 10)
	got, err := s.Select(context.Background(), SelectRequest{
		Root:       fleet(t, map[string]string{"clusters/prod/flux-system/api/ks.yaml": apiKS}),
		Changes:    []FileChange{{Path: "clusters/prod/flux-system/api/ks.yaml", Kind: Added}},
		Candidates: fleetIndex(t).Lookup(fleetURL, "main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := *got[0].Entry
	e.Kustomization = nil
	want := Entry{
		ObjectKey: ObjectKey{Cluster: "prod", Namespace: "flux-system", Name: "api"},
		Path:      "./apps/frontend",
		Source:    SourceRef{Kind: "GitRepository", Namespace: "flux-system", Name: "flux-system"},
		URL:       "ssh://git@github.com/example/fleet",
		Repo:      "github.com/example/fleet",
		Branch:    "main",
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("new entry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"new Kustomization defined in clusters/prod/flux-system/api/ks.yaml"}, got[0].Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

func TestSelectCachesReadSetsPerCommit(t *testing.T) {
	var builds atomic.Int32
	s := NewSelector(countingBuild(&builds), 100)
	root := fleet(t, nil)
	candidates := fleetIndex(t).Lookup(fleetURL, "main")
	run := func(commit string) []string {
		t.Helper()
		builds.Store(0)
		got, err := s.Select(context.Background(), SelectRequest{
			Root: root, Commit: commit, Candidates: candidates,
			Changes: []FileChange{{Path: "components/shared/logging.yaml", Kind: Modified}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return selectedNames(t, got)
	}
	cold := run("aaa")
	if n := builds.Load(); n != 6 {
		t.Errorf("cold selection built %d Kustomizations, want 6", n)
	}
	warm := run("aaa")
	if n := builds.Load(); n != 0 {
		t.Errorf("warm selection built %d Kustomizations, want 0", n)
	}
	if diff := cmp.Diff(cold, warm); diff != "" {
		t.Errorf("warm selection differs from cold (-cold +warm):\n%s", diff)
	}
	run("bbb")
	if n := builds.Load(); n != 6 {
		t.Errorf("selection at a new commit built %d Kustomizations, want 6", n)
	}
}

func TestSelectCacheIsBounded(t *testing.T) {
	var builds atomic.Int32
	s := NewSelector(countingBuild(&builds), 2)
	root := fleet(t, nil)
	candidates := fleetIndex(t).Lookup(fleetURL, "main")[:3]
	for range 2 {
		if _, err := s.Select(context.Background(), SelectRequest{Root: root, Commit: "aaa", Candidates: candidates}); err != nil {
			t.Fatal(err)
		}
	}
	if n := builds.Load(); n != 6 {
		t.Errorf("two selections of 3 Kustomizations with room for 2 built %d times, want 6", n)
	}
	if n := s.cache.order.Len(); n != 2 {
		t.Errorf("cache holds %d read-sets, want 2", n)
	}
}

func TestSelectReportsABrokenKustomization(t *testing.T) {
	ix := fleetIndex(t)
	ks := kustomization("flux-system", "broken", "./does/not/exist", gitRef("", "flux-system"))
	ix.SetKustomization("prod", ks)
	s := NewSelector(countingBuild(new(atomic.Int32)), 10)
	got, err := s.Select(context.Background(), SelectRequest{
		Root: fleet(t, nil), Changes: []FileChange{{Path: "README.md", Kind: Modified}},
		Candidates: ix.Lookup(fleetURL, "main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Entry.Name != "broken" || got[0].BuildErr == nil {
		t.Fatalf("selection = %+v, want the broken Kustomization with its build error", got)
	}
}
