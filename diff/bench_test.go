package diff

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// benchKinds are the kinds of the 1,000-object Kustomization, 250 of each:
// Deployments, Services, ConfigMaps and custom resources (Flux
// GitRepositories). %[1]d is the object's index, %[2]s its version label.
var benchKinds = []string{
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-%[1]d, namespace: __NS__, labels: {version: %[2]s}}\n" +
		"spec:\n  replicas: 1\n  selector: {matchLabels: {app: web-%[1]d}}\n  template:\n    metadata: {labels: {app: web-%[1]d}}\n" +
		"    spec: {containers: [{name: web, image: 'ghcr.io/stefanprodan/podinfo:6.5.0', ports: [{containerPort: 9898}]}]}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: web-%[1]d, namespace: __NS__, labels: {version: %[2]s}}\n" +
		"spec: {clusterIP: None, selector: {app: web-%[1]d}, ports: [{port: 9898}]}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%[1]d, namespace: __NS__, labels: {version: %[2]s}}\ndata: {index: \"%[1]d\"}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: repo-%[1]d, namespace: __NS__, labels: {version: %[2]s}}\n" +
		"spec: {url: 'https://github.com/org/repo-%[1]d', interval: 1m, ref: {branch: main}}\n",
}

// BenchmarkDiff diffs a 1,000-object Kustomization against the real API
// server: half of the objects are live (half of those changed), half new.
//
// Every iteration diffs it as fluxdiff does (DefaultConcurrency dry-runs in
// flight, live objects read with one LIST per kind and namespace where the
// build has several: see liveReads) and, as the baseline in the same run,
// one object at a time: a GET and then a dry-run apply of each object in
// turn, as fluxcd/pkg/ssa's ResourceManager does for kustomize-controller
// and `flux diff kustomization` does. Both diff the same build: it is made
// once, before the timed diffs, and reused from a BuildCache (as the
// server reuses selection's builds); its time is reported on its own
// (build-ms, kustomize's work, one at a time in any case) and in the
// with-build ratio. sequential-list-ms is one at a time with the bulk
// reads, to tell the two gains apart.
func BenchmarkDiff(b *testing.B) {
	ns := kubetest.Setup(b)
	root, ks := benchSetup(b, ns)
	builds := NewBuildCache(10 * benchPerKind * len(benchKinds))
	start := time.Now()
	if _, err := builds.Build(root, ks, BuildOptions{}); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	var parallel, sequential, seqList time.Duration
	n := 0
	for b.Loop() {
		n++
		parallel += timeDiff(b, &Differ{Client: ns.Client, Builds: builds}, root, ks)
		sequential += timeDiff(b, &Differ{Client: ns.Client, Builds: builds, Concurrency: 1, LiveListMin: -1}, root, ks)
		seqList += timeDiff(b, &Differ{Client: ns.Client, Builds: builds, Concurrency: 1}, root, ks)
	}
	if h := builds.Stats().Hits; h != int64(3*n) {
		b.Fatalf("%d build-cache hits, want %d: the timed diffs rebuilt", h, 3*n)
	}
	perIter := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	b.ReportMetric(float64(perIter(parallel).Milliseconds()), "parallel-ms")
	b.ReportMetric(float64(perIter(sequential).Milliseconds()), "sequential-ms")
	b.ReportMetric(float64(perIter(seqList).Milliseconds()), "sequential-list-ms")
	b.ReportMetric(float64(build.Milliseconds()), "build-ms")
	b.ReportMetric(float64(sequential)/float64(parallel), "speedup")
	withBuild := float64(perIter(sequential)+build) / float64(perIter(parallel)+build)
	b.ReportMetric(withBuild, "speedup-with-build")
	b.ReportMetric(float64(len(benchKinds)*benchPerKind), "objects")
}

// benchPerKind is the number of objects of each of benchKinds.
const benchPerKind = 250

// benchSetup writes the 1,000-object tree and applies its live half.
func benchSetup(b *testing.B, ns *kubetest.Namespace) (string, *kustomizev1.Kustomization) {
	var src, live strings.Builder
	for i := range benchPerKind {
		for _, k := range benchKinds {
			src.WriteString(fmt.Sprintf(k, i, "v2") + "---\n")
			if i%2 == 0 {
				version := "v2"
				if i%4 == 0 {
					version = "v1"
				}
				live.WriteString(fmt.Sprintf(k, i, version) + "---\n")
			}
		}
	}
	applyLive(b, ns.Client, ns.Name, "bench", live.String())
	root := writeTree(b, ns.Name, map[string]string{"app/objects.yaml": src.String()})
	return root, newKS(ns.Name, "bench", "./app")
}

// timeDiff diffs ks once with d, checks the counts and returns the time.
func timeDiff(b *testing.B, d *Differ, root string, ks *kustomizev1.Kustomization) time.Duration {
	start := time.Now()
	rep, err := d.Diff(context.Background(), Request{Root: root, Kustomization: ks})
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	k := rep.Kustomizations[0]
	// Per kind: 250 objects, the even ones live, those divisible by 4
	// with the old version label: 125 new, 63 changed, 62 unchanged.
	if c := k.Counts; k.Error != "" || c.Created != 500 || c.Configured != 252 || c.Unchanged != 248 {
		b.Fatalf("error %q, counts %+v; want 500 created, 252 configured, 248 unchanged", k.Error, c)
	}
	return took
}
