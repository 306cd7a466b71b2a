package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

const selectRepoURL = "https://github.com/acme/fleet"

// BenchmarkSelectAndBuild measures fluxdiff's own CPU work in the
// end-to-end benchmark's scenario, without an API server: selecting the
// Kustomizations of the generated repository (benchRepo) that the pull
// request affects and building the selected ones for the diff, cold (empty
// caches, first push) and warm (second push), with the build cache shared by
// selection and diff. It asserts the 11 selected and, warm, 11 builds. In
// the same run: the same without the build cache (selection and diff build
// on their own, as before the cache), and the no-selection baseline's
// builds (all 101 Kustomizations, once each).
func BenchmarkSelectAndBuild(b *testing.B) {
	base := b.TempDir()
	if err := benchRepo.Write(base); err != nil {
		b.Fatal(err)
	}
	push1, push2 := changedTree(b, base, benchChanges("6.5.1", "2")), changedTree(b, base, benchChanges("6.5.2", "3"))
	candidates := generatedEntries(b, base)
	var cached, uncached [2]time.Duration
	var all time.Duration
	var warmBuilds int64
	n := 0
	for b.Loop() {
		n++
		builds := diff.NewBuildCache(20_000)
		sel := server.NewCachingSelector(4096, builds)
		cached[0] += selectAndBuild(b, sel, builds.Build, push1, "m1", candidates)
		before := builds.Stats().Builds
		cached[1] += selectAndBuild(b, sel, builds.Build, push2, "m2", candidates)
		warmBuilds += builds.Stats().Builds - before
		plain := server.NewSelector(4096)
		uncached[0] += selectAndBuild(b, plain, diff.Build, push1, "m1", candidates)
		uncached[1] += selectAndBuild(b, plain, diff.Build, push2, "m2", candidates)
		start := time.Now()
		for _, e := range candidates {
			if _, err := diff.Build(push1, e.Kustomization, diff.BuildOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		all += time.Since(start)
	}
	if want := int64(len(affectedRows()) * n); warmBuilds != want {
		b.Errorf("warm pushes built %d Kustomizations, want %d", warmBuilds, want)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	b.ReportMetric(ms(cached[0]), "cold-ms")
	b.ReportMetric(ms(cached[1]), "warm-ms")
	b.ReportMetric(ms(uncached[0]), "cold-nocache-ms")
	b.ReportMetric(ms(uncached[1]), "warm-nocache-ms")
	b.ReportMetric(ms(all), "baseline-builds-ms")
	b.ReportMetric(float64(all)/float64(cached[1]), "baseline/warm")
}

// selectAndBuild selects on root and builds every selected Kustomization
// with build, as the diff does, and returns the time taken.
func selectAndBuild(b *testing.B, sel *kube.Selector, build func(string, *kustomizev1.Kustomization, diff.BuildOptions) ([]*unstructured.Unstructured, error), root, sha string, candidates []*kube.Entry) time.Duration {
	start := time.Now()
	picked, err := sel.Select(context.Background(), kube.SelectRequest{
		Root: root, Commit: sha, Base: "base", Candidates: candidates, Changes: []kube.FileChange{
			{Path: "apps/" + servertest.AppName(benchChangedApp) + "/deployment.yaml", Kind: kube.Modified},
			{Path: "components/c0/configmap.yaml", Kind: kube.Modified},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range picked {
		ks := s.Entry.Kustomization
		if s.Definition != nil {
			ks = s.Definition
		}
		if _, err := build(root, ks, diff.BuildOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	if len(picked) != len(affectedRows()) {
		b.Fatalf("selected %d Kustomizations, want %d", len(picked), len(affectedRows()))
	}
	return took
}

// changedTree copies the tree at base with changes applied.
func changedTree(b *testing.B, base string, changes map[string][]byte) string {
	files, err := servertest.ReadTree(base)
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	for p, body := range files {
		if c, ok := changes[p]; ok {
			body = c
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// generatedEntries indexes the generated repository's Kustomizations as the
// cluster holds them: the root (flux-system) and the apps its build holds.
func generatedEntries(b *testing.B, root string) []*kube.Entry {
	ix := kube.NewIndex()
	ix.SetGitRepository(benchRepo.Cluster, &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: "flux-system"},
		Spec:       sourcev1.GitRepositorySpec{URL: selectRepoURL, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	})
	rootKS := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: "flux-system"},
		Spec: kustomizev1.KustomizationSpec{Path: "./clusters/" + benchRepo.Cluster, Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "flux-system"}},
	}
	ix.SetKustomization(benchRepo.Cluster, rootKS)
	objs, err := diff.Build(root, rootKS, diff.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != kustomizev1.KustomizationKind {
			continue
		}
		ks := &kustomizev1.Kustomization{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ks); err != nil {
			b.Fatal(err)
		}
		ix.SetKustomization(benchRepo.Cluster, ks)
	}
	entries := ix.Lookup(selectRepoURL, "main")
	if len(entries) != benchRepo.Apps+1 {
		b.Fatalf("%d entries, want %d", len(entries), benchRepo.Apps+1)
	}
	return entries
}
