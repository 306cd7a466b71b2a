package server

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server/queue"
)

func entry(cluster, ns, name string) *kube.Entry {
	return &kube.Entry{ObjectKey: kube.ObjectKey{Cluster: cluster, Namespace: ns, Name: name}}
}

func targetNames(ts []target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.entry.ObjectKey.String())
	}
	return out
}

func TestFilterTargets(t *testing.T) {
	apps, infra := entry("staging", "flux-system", "apps"), entry("staging", "flux-system", "infra")
	prodApps := entry("production", "flux-system", "apps")
	candidates := []*kube.Entry{apps, infra, prodApps}
	selected := []target{{entry: apps}, {entry: prodApps}}
	for _, tc := range []struct {
		name     string
		filter   queue.Filter
		want     []string
		wantNote string
	}{
		{"a name keeps that Kustomization in every cluster", queue.Filter{Kustomization: "apps"},
			[]string{"staging/flux-system/apps", "production/flux-system/apps"}, ""},
		{"a cluster keeps what was selected there", queue.Filter{Cluster: "production"},
			[]string{"production/flux-system/apps"}, ""},
		{"a name the change did not select is diffed all the same", queue.Filter{Kustomization: "infra"},
			[]string{"staging/flux-system/infra"}, ""},
		{"an unknown name says so", queue.Filter{Kustomization: "nope", Cluster: "staging"},
			nil, "No Kustomization flux-system/nope that reads this repository and branch was found in cluster staging."},
		{"another namespace does not match", queue.Filter{Kustomization: "apps", Namespace: "team-a"},
			nil, "No Kustomization team-a/apps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, note := filterTargets(selected, candidates, tc.filter)
			if d := cmp.Diff(tc.want, targetNames(got)); d != "" {
				t.Errorf("targets (-want +got):\n%s", d)
			}
			if !strings.HasPrefix(note, tc.wantNote) || (tc.wantNote == "") != (note == "") {
				t.Errorf("note %q, want %q", note, tc.wantNote)
			}
		})
	}
}

func TestDedupeNestedKeepsTheRowDiffedUnderItsParent(t *testing.T) {
	rows := []diff.KustomizationReport{
		{Cluster: "staging", Namespace: "flux-system", Name: "apps"},
		{Cluster: "staging", Namespace: "flux-system", Name: "flux-system"},
		{Cluster: "staging", Namespace: "flux-system", Name: "apps", Parent: "flux-system/flux-system"},
		{Cluster: "production", Namespace: "flux-system", Name: "apps"},
		{Cluster: "production", Namespace: "flux-system", Name: "apps"},
	}
	var got []string
	for _, r := range dedupeNested(rows) {
		got = append(got, r.Cluster+"/"+r.Name+"<"+r.Parent)
	}
	want := []string{"staging/flux-system<", "staging/apps<flux-system/flux-system", "production/apps<"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}
