package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	return func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error) {
		n.Add(1)
		return diff.Build(root, ks, diff.BuildOptions{Ignore: ignore, WrapFS: wrap})
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

const extraCM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\n"

// clustersProdKustomization lists what Flux would generate for clusters/prod.
const clustersProdKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - flux-system/gotk-sync.yaml
  - flux-system/backend/ks.yaml
  - flux-system/frontend/ks.yaml
  - flux-system/production/ks.yaml
  - flux-system/staging/ks.yaml
  - flux-system/worker/ks.yaml
`

const targetNamespacePatch = `patches:
  - target:
      kind: Kustomization
      name: worker
    patch: |
      - op: add
        path: /spec/targetNamespace
        value: jobs
`

const renamePatch = `patches:
  - target:
      kind: Kustomization
      name: worker
    patch: |
      - op: replace
        path: /metadata/name
        value: jobs
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
			name:    "removing an extensionless Kustomization file from a generated folder selects the generating Kustomization",
			files:   map[string]string{"clusters/prod/extra/cm.yaml": extraCM},
			changes: []FileChange{{Path: "clusters/prod/extra/Kustomization", Kind: Removed}},
			want:    []string{"prod/flux-system/flux-system"},
		},
		{
			name:    "adding an extensionless Kustomization file to a generated folder selects the generating Kustomization",
			files:   map[string]string{"clusters/prod/extra/cm.yaml": extraCM, "clusters/prod/extra/Kustomization": "resources:\n  - cm.yaml\n"},
			changes: []FileChange{{Path: "clusters/prod/extra/Kustomization", Kind: Added}},
			want:    []string{"prod/flux-system/flux-system"},
		},
		{
			name:    "removing a kustomization.yml from a generated folder selects the generating Kustomization",
			files:   map[string]string{"clusters/prod/extra/cm.yaml": extraCM},
			changes: []FileChange{{Path: "clusters/prod/extra/kustomization.yml", Kind: Removed}},
			want:    []string{"prod/flux-system/flux-system"},
		},
		{
			name:    "a .sourceignore in a shared folder selects the Kustomizations that read it",
			files:   map[string]string{"components/shared/.sourceignore": "*.md\n"},
			changes: []FileChange{{Path: "components/shared/.sourceignore", Kind: Added}},
			want:    []string{"prod/flux-system/backend", "prod/flux-system/frontend", "prod/flux-system/worker"},
		},
		{
			name:    "a .sourceignore removed from a spec.path folder selects its Kustomization",
			changes: []FileChange{{Path: "overlays/staging/.sourceignore", Kind: Removed}},
			want:    []string{"prod/flux-system/staging"},
		},
		{
			name:    "a .sourceignore below a generated spec.path selects its Kustomization",
			files:   map[string]string{"clusters/prod/extra/.sourceignore": "secret.yaml\n"},
			changes: []FileChange{{Path: "clusters/prod/extra/.sourceignore", Kind: Added}},
			want:    []string{"prod/flux-system/flux-system"},
		},
		{
			name:    "the root .sourceignore selects every Kustomization",
			files:   map[string]string{".sourceignore": "docs/\n"},
			changes: []FileChange{{Path: ".sourceignore", Kind: Modified}},
			want: []string{"prod/flux-system/backend", "prod/flux-system/flux-system", "prod/flux-system/frontend",
				"prod/flux-system/production", "prod/flux-system/staging", "prod/flux-system/worker"},
		},
		{
			name:    "a kustomize patch on a child Kustomization selects that child",
			files:   map[string]string{"clusters/prod/kustomization.yaml": clustersProdKustomization + targetNamespacePatch},
			changes: []FileChange{{Path: "clusters/prod/kustomization.yaml", Kind: Added}},
			want:    []string{"prod/flux-system/flux-system", "prod/flux-system/worker"},
		},
		{
			name:    "a kustomize patch that renames a child Kustomization selects it as new",
			files:   map[string]string{"clusters/prod/kustomization.yaml": clustersProdKustomization + renamePatch},
			changes: []FileChange{{Path: "clusters/prod/kustomization.yaml", Kind: Added}},
			want:    []string{"prod/flux-system/flux-system", "prod/flux-system/jobs (new)"},
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

// selectOne runs a selection on the fixture with files written and returns
// the selected Kustomization named name.
func selectOne(t *testing.T, files map[string]string, changes []FileChange, name string) Selected {
	t.Helper()
	s := NewSelector(countingBuild(new(atomic.Int32)), 10)
	got, err := s.Select(context.Background(), SelectRequest{
		Root: fleet(t, files), Changes: changes, Candidates: fleetIndex(t).Lookup(fleetURL, "main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range got {
		if sel.Entry.Name == name {
			return sel
		}
	}
	t.Fatalf("%s is not selected: %v", name, selectedNames(t, got))
	return Selected{}
}

func TestSelectCarriesTheDefinitionOfTheMergeResult(t *testing.T) {
	t.Run("a changed definition is selected with its new spec", func(t *testing.T) {
		worker := strings.Replace(apiKS, "name: api", "name: worker", 1) + "  postBuild:\n    substitute:\n      replicas: \"3\"\n"
		sel := selectOne(t, map[string]string{"clusters/prod/flux-system/worker/ks.yaml": worker},
			[]FileChange{{Path: "clusters/prod/flux-system/worker/ks.yaml", Kind: Modified}}, "worker")
		if sel.Definition == nil || sel.Definition.Spec.PostBuild == nil {
			t.Fatalf("definition = %+v, want the spec with postBuild", sel.Definition)
		}
		if diff := cmp.Diff(map[string]string{"replicas": "3"}, sel.Definition.Spec.PostBuild.Substitute); diff != "" {
			t.Errorf("postBuild.substitute (-want +got):\n%s", diff)
		}
		if sel.Definition.Spec.Path != "./apps/frontend" || sel.Entry.Kustomization.Spec.Path != "./apps/worker" {
			t.Errorf("definition path = %q, cluster path = %q: want the new one and the live one", sel.Definition.Spec.Path, sel.Entry.Kustomization.Spec.Path)
		}
	})
	t.Run("a child patched by its applier is selected with the spec as built", func(t *testing.T) {
		sel := selectOne(t, map[string]string{"clusters/prod/kustomization.yaml": clustersProdKustomization + targetNamespacePatch},
			[]FileChange{{Path: "clusters/prod/kustomization.yaml", Kind: Added}}, "worker")
		if sel.Definition == nil || sel.Definition.Spec.TargetNamespace != "jobs" {
			t.Errorf("definition = %+v, want targetNamespace jobs", sel.Definition)
		}
		if diff := cmp.Diff([]string{"spec as built by prod/flux-system/flux-system differs from the cluster's"}, sel.Reasons); diff != "" {
			t.Errorf("reasons (-want +got):\n%s", diff)
		}
	})
	t.Run("a Kustomization selected for a file it reads carries its unchanged definition", func(t *testing.T) {
		sel := selectOne(t, nil, []FileChange{{Path: "base/configmap.yaml", Kind: Modified}}, "staging")
		if sel.Definition == nil || !cmp.Equal(sel.Definition.Spec, sel.Entry.Kustomization.Spec) {
			t.Errorf("definition = %+v, want the cluster's spec", sel.Definition)
		}
	})
	t.Run("a child that uses its applier's post-build variables is not compared", func(t *testing.T) {
		ix := fleetIndex(t)
		root := fleetIndex(t).Lookup(fleetURL, "main")[1].Kustomization.DeepCopy()
		if root.Name != "flux-system" {
			t.Fatalf("candidate 1 is %s, want flux-system", root.Name)
		}
		root.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"app": "worker"}}
		ix.SetKustomization("prod", root)
		worker := strings.Replace(apiKS, "name: api", "name: worker", 1)
		worker = strings.Replace(worker, "./apps/frontend", "./apps/${app}", 1)
		ix.SetKustomization("prod", kustomizationsIn([]byte(strings.Replace(worker, "${app}", "worker", 1)))[0])
		s := NewSelector(countingBuild(new(atomic.Int32)), 10)
		got, err := s.Select(context.Background(), SelectRequest{
			Root:    fleet(t, map[string]string{"clusters/prod/flux-system/worker/ks.yaml": worker, "README.md": "# changed\n"}),
			Changes: []FileChange{{Path: "README.md", Kind: Modified}}, Candidates: ix.Lookup(fleetURL, "main"),
		})
		if err != nil {
			t.Fatal(err)
		}
		// flux-system's own file lacks the postBuild given to the cluster's.
		if diff := cmp.Diff([]string{"prod/flux-system/flux-system"}, selectedNames(t, got)); diff != "" {
			t.Errorf("selection (-want +got):\n%s", diff)
		}
	})
}

func TestSelectBuildsWithTheGitRepositoryIgnore(t *testing.T) {
	ix := fleetIndex(t)
	ignore := "apps/worker/\n"
	repo := gitRepo("flux-system", "flux-system", "ssh://git@github.com/example/fleet", &sourcev1.GitRepositoryRef{Branch: "main"})
	repo.Spec.Ignore = &ignore
	ix.SetGitRepository("prod", repo)
	candidates := ix.Lookup(fleetURL, "main")
	for _, e := range candidates {
		if e.Ignore != ignore {
			t.Errorf("entry %s has ignore %q, want %q", e.ObjectKey, e.Ignore, ignore)
		}
	}
	seen := map[string]string{}
	var mu sync.Mutex
	build := func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error) {
		mu.Lock()
		seen[ks.Name] = ignore
		mu.Unlock()
		return diff.Build(root, ks, diff.BuildOptions{Ignore: ignore, WrapFS: wrap})
	}
	got, err := NewSelector(build, 10).Select(context.Background(), SelectRequest{
		Root: fleet(t, nil), Changes: []FileChange{{Path: "README.md", Kind: Modified}}, Candidates: candidates,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 6 || seen["worker"] != ignore {
		t.Errorf("builds saw ignore %q, want %q for all 6", seen, ignore)
	}
	// The artifact has no apps/worker: the worker cannot build.
	if len(got) != 1 || got[0].Entry.Name != "worker" || got[0].BuildErr == nil {
		t.Errorf("selection = %+v, want worker failing to build", got)
	}
}

func TestSelectReusesReadSetsOfTheSameBase(t *testing.T) {
	candidates := fleetIndex(t).Lookup(fleetURL, "main")
	logging := FileChange{Path: "components/shared/logging.yaml", Kind: Modified}
	replicas := FileChange{Path: "overlays/staging/replicas.yaml", Kind: Modified}
	tests := []struct {
		name       string
		base       string
		changes    []FileChange
		wantBuilds int32
	}{
		{
			name: "a commit that changes what only staging reads rebuilds the readers of either commit's changes",
			base: "base1", changes: []FileChange{replicas},
			wantBuilds: 4, // backend, frontend, worker (logging.yaml differed before) and staging
		},
		{
			name: "the same change set on the same base rebuilds its readers alone",
			base: "base1", changes: []FileChange{logging},
			wantBuilds: 3,
		},
		{
			name: "a change below a generated spec.path rebuilds that Kustomization",
			base: "base1", changes: []FileChange{logging, {Path: "clusters/prod/notes.txt", Kind: Added}},
			wantBuilds: 4,
		},
		{
			name: "a .sourceignore anywhere rebuilds everything",
			base: "base1", changes: []FileChange{logging, {Path: "apps/.sourceignore", Kind: Added}},
			wantBuilds: 6,
		},
		{
			name: "another base rebuilds everything",
			base: "base2", changes: []FileChange{logging},
			wantBuilds: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var builds atomic.Int32
			s := NewSelector(countingBuild(&builds), 100)
			root := fleet(t, nil)
			if _, err := s.Select(context.Background(), SelectRequest{
				Root: root, Commit: "merge1", Base: "base1", Changes: []FileChange{logging}, Candidates: candidates,
			}); err != nil {
				t.Fatal(err)
			}
			builds.Store(0)
			req := SelectRequest{Root: root, Commit: "merge2", Base: tt.base, Changes: tt.changes, Candidates: candidates}
			got, err := s.Select(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if n := builds.Load(); n != tt.wantBuilds {
				t.Errorf("second selection built %d Kustomizations, want %d", n, tt.wantBuilds)
			}
			cold, err := NewSelector(countingBuild(new(atomic.Int32)), 0).Select(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(selectedNames(t, cold), selectedNames(t, got)); diff != "" {
				t.Errorf("selection with reused read-sets differs from a cold one (-cold +got):\n%s", diff)
			}
		})
	}
}
