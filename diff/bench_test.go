package diff

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// BenchmarkDiff diffs a 1,000-object Kustomization (500 objects live and
// unchanged or changed, 500 new) against the real API server, with the
// default bounded parallelism and with a one-object-at-a-time baseline.
func BenchmarkDiff(b *testing.B) {
	ns := kubetest.Setup(b)
	const objects = 1000
	var src, live strings.Builder
	for i := range objects {
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d, namespace: __NS__}\ndata: {index: \"%d\", version: v2}\n---\n", i, i)
		src.WriteString(doc)
		if i%2 == 0 {
			version := "v2"
			if i%4 == 0 {
				version = "v1"
			}
			live.WriteString(strings.Replace(doc, "version: v2", "version: "+version, 1))
		}
	}
	applyLive(b, ns.Client, ns.Name, "bench", live.String())
	root := writeTree(b, ns.Name, map[string]string{"app/cms.yaml": src.String()})
	ks := newKS(ns.Name, "bench", "./app")

	for _, tc := range []struct {
		name        string
		concurrency int
	}{{"parallel-8", 8}, {"sequential", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			d := &Differ{Client: ns.Client, Concurrency: tc.concurrency}
			for b.Loop() {
				rep, err := d.Diff(context.Background(), Request{Root: root, Kustomization: ks})
				if err != nil {
					b.Fatal(err)
				}
				if c := rep.Kustomizations[0].Counts; c.Created != 500 || c.Configured != 250 || c.Unchanged != 250 {
					b.Fatalf("counts %+v", c)
				}
			}
			b.ReportMetric(float64(objects), "objects/op")
		})
	}
}
