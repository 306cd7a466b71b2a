package diff

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// BenchmarkDiffWithBase measures what classification costs: the same 1,000
// ConfigMaps diffed alone, and with a base tree (a second build and
// dry-run of every object, in parallel with the first, then the
// comparison). Half exist live; the base tree has version v1 where the
// merge tree has v2, so changes fall in every class.
func BenchmarkDiffWithBase(b *testing.B) {
	ns := kubetest.Setup(b)
	const objects = 1000
	var merge, base, live strings.Builder
	for i := range objects {
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d, namespace: __NS__}\ndata: {index: \"%d\", version: v2}\n---\n", i, i)
		merge.WriteString(doc)
		base.WriteString(strings.Replace(doc, "version: v2", "version: v1", 1))
		if i%2 == 0 {
			live.WriteString(strings.Replace(doc, "version: v2", fmt.Sprintf("version: v%d", 1+i%4/2), 1))
		}
	}
	applyLive(b, ns.Client, ns.Name, "bench", live.String())
	mergeRoot := writeTree(b, ns.Name, map[string]string{"app/cms.yaml": merge.String()})
	baseRoot := writeTree(b, ns.Name, map[string]string{"app/cms.yaml": base.String()})
	ks := newKS(ns.Name, "bench", "./app")
	for _, tc := range []struct{ name, base string }{{"merge-only", ""}, {"with-base", baseRoot}} {
		b.Run(tc.name, func(b *testing.B) {
			d := &Differ{Client: ns.Client}
			for b.Loop() {
				rep, err := d.Diff(context.Background(), Request{Root: mergeRoot, Base: tc.base, Kustomization: ks})
				if err != nil {
					b.Fatal(err)
				}
				k := rep.Kustomizations[0]
				if tc.base != "" && (k.Classes == nil || k.Classes.PR+k.Classes.Drift+k.Classes.PRAndDrift != k.Counts.Created+k.Counts.Configured) {
					b.Fatalf("classes %+v for counts %+v", k.Classes, k.Counts)
				}
			}
		})
	}
}
