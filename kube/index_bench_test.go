package kube

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/kustomize"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkIndex measures the Index data structure alone (no informers, no
// API server): the heap it holds for 5,000 Kustomizations and their
// GitRepositories over 5 clusters, and the time of one Lookup.
func BenchmarkIndex(b *testing.B) {
	for _, bc := range []struct {
		name  string
		repos int
	}{
		{name: "100 repositories", repos: 100},
		{name: "one monorepo", repos: 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const clusters, perCluster = 5, 1000
			before := heapAlloc()
			ix := benchIndex(clusters, perCluster, bc.repos)
			after := heapAlloc()
			if ix.Len() != clusters*perCluster {
				b.Fatalf("index holds %d Kustomizations, want %d", ix.Len(), clusters*perCluster)
			}
			url := fmt.Sprintf("git@github.com:org/repo-%d.git", bc.repos/2)
			want := clusters * perCluster / bc.repos
			var got int
			for b.Loop() {
				got = len(ix.Lookup(url, "main"))
			}
			if got != want {
				b.Fatalf("Lookup returned %d entries, want %d", got, want)
			}
			b.ReportMetric(float64(after-before)/(1<<20), "heap-MB")
			b.ReportMetric(float64(got), "entries/lookup")
			runtime.KeepAlive(ix)
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchIndex fills an index with perCluster Kustomizations in each cluster,
// spread over 20 namespaces and the given number of repositories, each
// repository having a GitRepository per cluster in a different URL form.
func benchIndex(clusters, perCluster, repos int) *Index {
	ix := NewIndex()
	forms := []string{"https://github.com/Org/repo-%d.git", "ssh://git@github.com/org/repo-%d", "git@github.com:org/repo-%d.git", "https://github.com/org/repo-%d/"}
	for c := range clusters {
		cluster := fmt.Sprintf("cluster-%d", c)
		for r := range repos {
			url := fmt.Sprintf(forms[(c+r)%len(forms)], r)
			ix.SetGitRepository(cluster, gitRepo("flux-system", fmt.Sprintf("repo-%d", r), url, &sourcev1.GitRepositoryRef{Branch: "main"}))
		}
		for i := range perCluster {
			ix.SetKustomization(cluster, benchKustomization(i, repos))
		}
	}
	return ix
}

func benchKustomization(i, repos int) *kustomizev1.Kustomization {
	ks := kustomization(fmt.Sprintf("team-%d", i%20), fmt.Sprintf("app-%d", i), fmt.Sprintf("./apps/app-%d/overlays/prod", i),
		gitRef("flux-system", fmt.Sprintf("repo-%d", i%repos)))
	ks.Spec.Interval = metav1.Duration{Duration: 10 * time.Minute}
	ks.Spec.Prune = true
	ks.Spec.TargetNamespace = ks.Namespace
	ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"cluster_env": "prod", "region": "eu-west-1"}}
	ks.Spec.Patches = []kustomize.Patch{{
		Patch:  "- op: replace\n  path: /spec/replicas\n  value: 3\n",
		Target: &kustomize.Selector{Kind: "Deployment", Name: ks.Name},
	}}
	return ks
}
