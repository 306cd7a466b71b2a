package githubapp

import (
	"context"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

// riskyReport is a pull request report on one cluster whose Deployment
// changes selector and image and whose claim is pruned, and whose
// HelmRelease's upgrade changes an image and deletes a StatefulSet.
func riskyReport() *diff.Report {
	apps := ks("prod", "flux-system", "apps", "./apps/prod",
		diff.Change{Action: diff.ActionFailed, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "podinfo", Name: "podinfo",
			Reason: "dry-run rejected (Invalid): spec.selector: field is immutable"},
		change(diff.ActionConfigured, "Deployment", "podinfo", "redis", 1),
		change(diff.ActionDeleted, "PersistentVolumeClaim", "podinfo", "cache", 1),
	)
	apps.Risks = []diff.Risk{
		{Kind: diff.RiskImmutable, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "podinfo", Name: "podinfo", Field: "spec.selector.matchLabels.app",
			Old: "podinfo", New: "podinfo-v2", Message: "Flux will fail to apply this: spec.selector.matchLabels.app cannot change (podinfo → podinfo-v2)",
			File: "apps/prod/podinfo.yaml", Line: 4},
		{Kind: diff.RiskDeletion, APIVersion: "v1", ObjectKind: "PersistentVolumeClaim", Namespace: "podinfo", Name: "cache",
			Message: "deleted by prune (it left the build), its volume's data may be lost", File: "apps/prod/kustomization.yaml", Line: 1},
		{Kind: diff.RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "podinfo", Name: "redis", Field: "spec.template.spec.containers[redis].image",
			Old: "redis:7.2", New: "redis:7.4", Message: "image redis:7.2 → redis:7.4", File: "apps/prod/redis.yaml", Line: 4},
		{Kind: diff.RiskSuspended, APIVersion: "kustomize.toolkit.fluxcd.io/v1", ObjectKind: "Kustomization", Namespace: "flux-system", Name: "apps",
			Message: "the Kustomization is suspended (spec.suspend: true): nothing of this change applies until it is resumed"},
	}
	cache := diff.HelmReleaseReport{Namespace: "podinfo", Name: "cache", ReleaseName: "cache", ReleaseNamespace: "podinfo",
		Chart: "redis", ChartSource: "HelmRepository/podinfo/bitnami", OldVersion: "20.1.0", NewVersion: "21.0.0",
		Changes: []diff.Change{
			change(diff.ActionConfigured, "Deployment", "podinfo", "cache-redis", 1),
			change(diff.ActionConfigured, "Service", "podinfo", "cache-redis", 1),
			change(diff.ActionDeleted, "StatefulSet", "podinfo", "cache-redis-replicas", 1),
		}}
	cache.Tally()
	cache.Risks = []diff.Risk{
		{Kind: diff.RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "podinfo", Name: "cache-redis", Field: "spec.template.spec.containers[redis].image",
			Old: "redis:7.2", New: "redis:7.4", Message: "image redis:7.2 → redis:7.4", File: "apps/prod/cache.yaml", Line: 2},
		{Kind: diff.RiskDeletion, APIVersion: "apps/v1", ObjectKind: "StatefulSet", Namespace: "podinfo", Name: "cache-redis-replicas",
			Message: "deleted by the Helm upgrade (it left the chart's render), its pods go", File: "apps/prod/cache.yaml", Line: 2},
	}
	apps.HelmReleases = []diff.HelmReleaseReport{cache}
	return &diff.Report{SchemaVersion: diff.SchemaVersion, PullRequest: testPR(), Clusters: []string{"prod"}, Kustomizations: []diff.KustomizationReport{apps}}
}

// TestPublishRiskFlags: the check run (through the GitHub stand-in, which
// validates every request against GitHub's OpenAPI description) carries
// the blast radius as its title (the HelmRelease's objects counted in), the
// line with the HelmRelease part and the flags at the top of its summary,
// and one annotation per located flag: warning for a risk, notice for an
// image change, a HelmRelease's flags naming it; a flag without a file is
// in the summary only. The comment starts the same way, and its counts
// table has a row for the HelmRelease and a total.
func TestPublishRiskFlags(t *testing.T) {
	w := newPublishWorld(t, Config{})
	rep := w.report(riskyReport())
	if err := w.app.Publish(context.Background(), rep, 5, w.refs); err != nil {
		t.Fatal(err)
	}
	runs := w.checkRuns()
	if len(runs) != 1 {
		t.Fatalf("got %d check runs, want 1", len(runs))
	}
	out := runs[0].Output
	wantTitle := "1 Kustomization could not be fully diffed · 1 cluster, 1 Kustomization, 0 created, 3 changed, 2 deleted, 4 risk flags"
	if out.Title != wantTitle {
		t.Errorf("title = %q, want %q", out.Title, wantTitle)
	}
	type ann struct {
		path  string
		line  int
		level string
		title string
	}
	var got []ann
	for _, a := range out.Annotations {
		got = append(got, ann{a.Path, a.StartLine, a.AnnotationLevel, a.Title})
	}
	want := []ann{
		{"apps/prod/podinfo.yaml", 4, "warning", "Risk (immutable): Deployment/podinfo/podinfo"},
		{"apps/prod/kustomization.yaml", 1, "warning", "Risk (deletion): PersistentVolumeClaim/podinfo/cache"},
		{"apps/prod/cache.yaml", 2, "warning", "Risk (deletion): StatefulSet/podinfo/cache-redis-replicas"},
		{"apps/prod/redis.yaml", 4, "notice", "Image change: Deployment/podinfo/redis"},
		{"apps/prod/cache.yaml", 2, "notice", "Image change: Deployment/podinfo/cache-redis"},
	}
	if len(got) != len(want) {
		t.Fatalf("annotations = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("annotation %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if msg := out.Annotations[0].Message; !strings.Contains(msg, "Flux will fail to apply this") || !strings.Contains(msg, "Cluster prod, Kustomization flux-system/apps.") {
		t.Errorf("annotation message = %q", msg)
	}
	if msg := out.Annotations[2].Message; !strings.Contains(msg, "deleted by the Helm upgrade") || !strings.Contains(msg, "Cluster prod, Kustomization flux-system/apps, HelmRelease podinfo/cache") {
		t.Errorf("HelmRelease annotation message = %q", msg)
	}
	for _, body := range []string{out.Summary, w.stickies()[0].Body} {
		blast := strings.Index(body, "**Blast radius:** 1 cluster, 1 Kustomization, 0 created, 3 changed (2 in HelmReleases), 2 deleted (1 in HelmReleases), 4 risk flags")
		flags := strings.Index(body, "> **Risk flags**")
		table := strings.Index(body, "| Cluster | Kustomization |")
		if blast < 0 || flags < blast || table < flags {
			t.Errorf("blast radius (%d), flags (%d) and table (%d) not in that order at the top:\n%s", blast, flags, table, body)
		}
		for _, s := range []string{"**suspended** <code>Kustomization/flux-system/apps</code>", "<code>redis:7.2</code> → <code>redis:7.4</code>",
			"| <code>prod</code> | ↳ ⎈ HelmRelease <code>podinfo/cache</code> | 0 | 2 | 1 | 0 |",
			"| **Total** | 1 Kustomization, 1 HelmRelease | 0 | 3 | 2 | **1** |"} {
			if !strings.Contains(body, s) {
				t.Errorf("body lacks %q:\n%s", s, body)
			}
		}
	}
}
