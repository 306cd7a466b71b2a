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
// Every iteration diffs it with the default bounded parallelism
// (DefaultConcurrency dry-runs in flight) and, as the baseline in the same
// run, one object at a time, and reports both and their ratio.
func BenchmarkDiff(b *testing.B) {
	ns := kubetest.Setup(b)
	const perKind = 250
	var src, live strings.Builder
	for i := range perKind {
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
	ks := newKS(ns.Name, "bench", "./app")
	var parallel, sequential time.Duration
	n := 0
	for b.Loop() {
		n++
		parallel += timeDiff(b, &Differ{Client: ns.Client}, root, ks)
		sequential += timeDiff(b, &Differ{Client: ns.Client, Concurrency: 1}, root, ks)
	}
	b.ReportMetric(float64(parallel.Milliseconds())/float64(n), "parallel-ms")
	b.ReportMetric(float64(sequential.Milliseconds())/float64(n), "sequential-ms")
	b.ReportMetric(float64(sequential)/float64(parallel), "speedup")
	b.ReportMetric(float64(len(benchKinds)*perKind), "objects")
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
