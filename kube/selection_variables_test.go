package kube

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// varsKS is a Kustomization of the fleet that substitutes variables from a
// ConfigMap.
func varsKS(name, path, configMap string) string {
	return apiKS[:strings.Index(apiKS, "  name: api")] + "  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path +
		"\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: " + configMap + "\n"
}

// TestSelectPicksWhoReadsChangedVariables: kustomize-controller reads
// postBuild.substituteFrom from the cluster at build time (LoadVariables), so
// when a pull request changes a ConfigMap that a Kustomization applies, every
// Kustomization that substitutes from it changes output once it applies.
func TestSelectPicksWhoReadsChangedVariables(t *testing.T) {
	const clusterVars = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  REGION: eu-west-2\n"
	const moreVars = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more-vars\n  namespace: flux-system\ndata:\n  ZONE: b\n"
	ix := fleetIndex(t)
	for _, doc := range []string{
		varsKS("reader", "./apps/vars", "cluster-vars"),
		varsKS("second-hand", "./apps/backend", "more-vars"),
		varsKS("unrelated", "./apps/frontend", "other-vars"),
	} {
		for _, ks := range kustomizationsIn([]byte(doc)) {
			ix.SetKustomization("prod", ks)
		}
	}
	files := map[string]string{
		"clusters/prod/cluster-vars.yaml": clusterVars,
		"apps/vars/more-vars.yaml":        moreVars,
	}
	tests := []struct {
		name    string
		changes []FileChange
		want    []string
	}{
		{
			name:    "a change to a ConfigMap that feeds variables selects its readers, and theirs",
			changes: []FileChange{{Path: "clusters/prod/cluster-vars.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/flux-system", "prod/flux-system/reader", "prod/flux-system/second-hand"},
		},
		{
			name:    "a change elsewhere selects no reader",
			changes: []FileChange{{Path: "overlays/staging/replicas.yaml", Kind: Modified}},
			want:    []string{"prod/flux-system/staging"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSelector(countingBuild(new(atomic.Int32)), 100)
			got, err := s.Select(context.Background(), SelectRequest{
				Root: fleet(t, files), Commit: "0123abc", Changes: tt.changes,
				Candidates: ix.Lookup(fleetURL, "main"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, selectedNames(t, got)); diff != "" {
				t.Errorf("selection (-want +got):\n%s", diff)
			}
			for _, s := range got {
				if s.Entry.Name == "reader" && !strings.Contains(strings.Join(s.Reasons, "\n"), "postBuild.substituteFrom reads ConfigMap flux-system/cluster-vars, which the build of prod/flux-system/flux-system applies") {
					t.Errorf("reader's reasons: %v", s.Reasons)
				}
			}
		})
	}
}
