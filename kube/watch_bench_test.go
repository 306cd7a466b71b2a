package kube

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// BenchmarkIndexWithInformers measures what the index of 5,000
// Kustomizations over 5 clusters costs in a running fluxdiff: the heap held
// by the Watcher (the informers' stores of trimmed objects, their
// machinery, and the Index), and the time of one Watcher.Lookup.
//
// The 5 clusters are 5 cluster configurations (5 sets of informers, 5 parts
// of the index) on the shared real API server, which holds 1,000
// Kustomizations and 10 GitRepositories: each cluster's informers list and
// hold their own 1,000 objects exactly as they would from 5 API servers,
// without starting 5 control planes on a 2-core machine.
func BenchmarkIndexWithInformers(b *testing.B) {
	const clusters, perCluster, repos = 5, 1000, 10
	ns := kubetest.Setup(b)
	createFluxObjects(b, ns, perCluster, repos)
	var all kustomizev1.KustomizationList
	if err := ns.Client.List(context.Background(), &all); err != nil {
		b.Fatal(err)
	}
	before := heapAlloc()
	var cls []*Cluster
	for c := range clusters {
		cls = append(cls, NewCluster(fmt.Sprintf("cluster-%d", c), ns.Config, 0, 0))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(NewIndex(), cls)
	start := time.Now()
	w.Start(ctx)
	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	defer scancel()
	if !w.WaitForSync(sctx) {
		b.Fatalf("informers did not sync: %+v", w.Status())
	}
	synced := time.Since(start)
	after := heapAlloc()
	if got, want := w.Index().Len(), clusters*len(all.Items); got != want {
		b.Fatalf("index holds %d Kustomizations, want %d", got, want)
	}
	url := "https://github.com/org/repo-3"
	want := clusters * perCluster / repos
	var got int
	for b.Loop() {
		got = len(w.Lookup(url, "main").Entries)
	}
	if got != want {
		b.Fatalf("Lookup returned %d entries, want %d", got, want)
	}
	b.ReportMetric(float64(after-before)/(1<<20), "heap-MB")
	b.ReportMetric(float64(after-before)/float64(clusters*perCluster), "heap-B/kustomization")
	b.ReportMetric(synced.Seconds(), "sync-s")
	b.ReportMetric(float64(got), "entries/lookup")
	runtime.KeepAlive(w)
}

// createFluxObjects creates repos GitRepositories and n Kustomizations, of
// the shape benchKustomization gives, in ns.
func createFluxObjects(b *testing.B, ns *kubetest.Namespace, n, repos int) {
	ctx := context.Background()
	forms := []string{"https://github.com/Org/repo-%d.git", "ssh://git@github.com/org/repo-%d", "https://github.com/org/repo-%d/"}
	for r := range repos {
		gr := gitRepo(ns.Name, fmt.Sprintf("repo-%d", r), fmt.Sprintf(forms[r%len(forms)], r), &sourcev1.GitRepositoryRef{Branch: "main"})
		gr.Spec.Interval.Duration = time.Minute
		if err := ns.Client.Create(ctx, gr); err != nil {
			b.Fatal(err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			ks := benchKustomization(i, repos)
			ks.Namespace = ns.Name
			ks.Spec.SourceRef.Namespace = ns.Name
			ks.Spec.TargetNamespace = "team-" + fmt.Sprint(i%20)
			ks.Labels = map[string]string{"team": ks.Spec.TargetNamespace, "app.kubernetes.io/part-of": "platform"}
			ks.Annotations = map[string]string{"example.com/owner": "platform-team@example.com"}
			if err := ns.Client.Create(gctx, ks, client.FieldOwner("flux")); err != nil {
				return err
			}
			ks.Status = benchStatus(ks)
			return ns.Client.Status().Update(gctx, ks)
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// benchStatus is a status as kustomize-controller writes it: conditions and
// an inventory of 20 objects (which the informers drop).
func benchStatus(ks *kustomizev1.Kustomization) kustomizev1.KustomizationStatus {
	inv := &kustomizev1.ResourceInventory{}
	for j := range 20 {
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: fmt.Sprintf("%s_%s-%d_apps_Deployment", ks.Spec.TargetNamespace, ks.Name, j), Version: "v1"})
	}
	return kustomizev1.KustomizationStatus{
		ObservedGeneration: 1, LastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
		Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded",
			Message: "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567", LastTransitionTime: metav1.Now()}},
		Inventory: inv,
	}
}
