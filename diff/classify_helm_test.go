package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestClassifyHelmByTheBaseRender: a rendered object that only the merge
// render changes is the pull request's; one the base render changes the
// same way is drift (the release in the cluster is not what Git at the
// base renders); one both change differently is both; a HelmRelease whose
// base render failed stays unclassified, and one the base lacks is the
// pull request's.
func TestClassifyHelmByTheBaseRender(t *testing.T) {
	obj := func(kind, name string, a Action, diff string) Change {
		return Change{APIVersion: "v1", Kind: kind, Namespace: "podinfo", Name: name, Action: a, Diff: diff}
	}
	release := func(name string, changes ...Change) HelmReleaseReport {
		return HelmReleaseReport{Namespace: "podinfo", Name: name, Changes: changes}
	}
	merged := KustomizationReport{Name: "apps", HelmReleases: []HelmReleaseReport{
		release("podinfo",
			obj("ConfigMap", "pr-only", ActionConfigured, "-a\n+b"),
			obj("ConfigMap", "drift-only", ActionConfigured, "-x\n+y"),
			obj("ConfigMap", "both", ActionConfigured, "-x\n+z"),
			obj("ConfigMap", "same", ActionUnchanged, ""),
			obj("Service", "new", ActionCreated, "+all"),
		),
		release("failed-base", obj("ConfigMap", "c", ActionConfigured, "-1\n+2")),
		release("added", obj("ConfigMap", "d", ActionCreated, "+d")),
	}}
	base := KustomizationReport{Name: "apps", HelmReleases: []HelmReleaseReport{
		release("podinfo",
			obj("ConfigMap", "pr-only", ActionUnchanged, ""),
			obj("ConfigMap", "drift-only", ActionConfigured, "-x\n+y"),
			obj("ConfigMap", "both", ActionConfigured, "-x\n+y"),
			obj("ConfigMap", "same", ActionUnchanged, ""),
		),
		{Namespace: "podinfo", Name: "failed-base", Error: "chart not found"},
	}}
	var counts ClassCounts
	classifyHelm(&merged, &base, &counts)
	got := map[string]Class{}
	for _, h := range merged.HelmReleases {
		for _, c := range h.Changes {
			got[h.Name+"/"+c.Name] = c.Class
		}
	}
	want := map[string]Class{
		"podinfo/pr-only": ClassPR, "podinfo/drift-only": ClassDrift, "podinfo/both": ClassPRAndDrift,
		"podinfo/same": "", "podinfo/new": ClassPR, "failed-base/c": "", "added/d": ClassPR,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("classes (-want +got):\n%s", d)
	}
	if want := (ClassCounts{PR: 3, Drift: 1, PRAndDrift: 1}); counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
}
