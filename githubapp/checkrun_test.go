package githubapp

import (
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

// TestCheckTitleCountsHelmReleases: a Kustomization whose only changes are
// the objects of a HelmRelease it applies is not "No changes", and a
// HelmRelease that cannot be rendered leaves it not fully diffed; the title
// keeps the short blast-radius line, the HelmReleases' objects counted in.
func TestCheckTitleCountsHelmReleases(t *testing.T) {
	helmOnly := func(h diff.HelmReleaseReport) *diff.Report {
		apps := ks("prod", "flux-system", "apps", "./apps",
			diff.Change{Action: diff.ActionUnchanged, APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Namespace: "podinfo", Name: "podinfo"})
		apps.HelmReleases = []diff.HelmReleaseReport{h}
		return &diff.Report{Clusters: []string{"prod"}, Kustomizations: []diff.KustomizationReport{apps}}
	}
	rendered := diff.HelmReleaseReport{Namespace: "podinfo", Name: "podinfo", Changes: []diff.Change{
		change(diff.ActionConfigured, "Deployment", "podinfo", "podinfo", 1),
		change(diff.ActionConfigured, "Service", "podinfo", "podinfo", 1),
		change(diff.ActionCreated, "ConfigMap", "podinfo", "podinfo-settings", 1),
	}}
	rendered.Tally()
	failed := diff.HelmReleaseReport{Namespace: "podinfo", Name: "podinfo", Changes: []diff.Change{},
		Error: "podinfo from HelmRepository/podinfo/podinfo: connection refused"}
	for name, tt := range map[string]struct {
		rep  *diff.Report
		want string
	}{
		"changes in a HelmRelease only": {helmOnly(rendered), "1 cluster, 1 Kustomization, 1 created, 2 changed, 0 deleted, 0 risk flags"},
		"a HelmRelease that fails":      {helmOnly(failed), "1 Kustomization could not be fully diffed · 1 cluster, 1 Kustomization, 0 created, 0 changed, 0 deleted, 0 risk flags"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := checkTitle(tt.rep); got != tt.want {
				t.Errorf("title = %q\nwant    %q", got, tt.want)
			}
		})
	}
}
