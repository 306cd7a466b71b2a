package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// TestRiskFlagsOnFluxExampleRepository: on Flux's example repository, as
// kustomize-controller leaves it in two clusters, a pull request that drops
// the podinfo Namespace from apps/base/podinfo gets it deleted by prune
// (the apps Kustomizations prune, and it is in their inventory): one
// deletion flag per cluster, at the top of the comment, as warning
// annotations on each cluster's apps/<cluster>/kustomization.yaml, and
// counted in the blast radius that titles the check run.
func TestRiskFlagsOnFluxExampleRepository(t *testing.T) {
	w := newWorld(t)
	const k = "apps/base/podinfo/kustomization.yaml"
	head := w.open(t, servertest.PR{Number: 1, Title: "Drop the podinfo Namespace", Changes: map[string][]byte{
		k: replaceIn(t, w.Base, k, "  - namespace.yaml\n", ""),
	}})
	if code := w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 1, head), webhookSecret); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d, want 202", code)
	}
	cr := w.waitCheck(t, head)
	rep := w.lastReport(t, 1)
	var flags []string
	for _, f := range rep.Risks() {
		flags = append(flags, f.Cluster+" "+string(f.Kind)+" "+f.ObjectID()+" @ "+f.File)
	}
	want := []string{
		"staging deletion Namespace/podinfo @ apps/staging/kustomization.yaml",
		"production deletion Namespace/podinfo @ apps/production/kustomization.yaml",
	}
	if !slices.Equal(flags, want) {
		t.Errorf("risk flags:\n%s\nwant:\n%s", strings.Join(flags, "\n"), strings.Join(want, "\n"))
	}
	b := rep.BlastRadius()
	if b.Clusters != 2 || b.Kustomizations != 2 || b.Deleted < 1 || b.RiskFlags != 2 {
		t.Errorf("blast radius = %+v, want 2 clusters, 2 Kustomizations, deletions and 2 risk flags", b)
	}
	// The title is the blast radius, then the changes by class (both
	// deletions are the pull request's own).
	if want := b.Short() + " (2 pr)"; cr.Output.Title != want {
		t.Errorf("check run title %q, want the blast radius and classes %q", cr.Output.Title, want)
	}
	var warned []string
	for _, a := range cr.Output.Annotations {
		if a.AnnotationLevel == "warning" {
			warned = append(warned, a.Path)
		}
	}
	if !slices.Equal(warned, []string{"apps/staging/kustomization.yaml", "apps/production/kustomization.yaml"}) {
		t.Errorf("warning annotations on %v, want one on each cluster's apps kustomization.yaml", warned)
	}
	comments := w.gh.Comments(fleetRepo, 1)
	if len(comments) != 1 {
		t.Fatalf("%d comments, want 1", len(comments))
	}
	body := comments[0].Body
	blast, flagged, table := strings.Index(body, "**Blast radius:** "+b.String()), strings.Index(body, "**deletion** <code>Namespace/podinfo</code>"), strings.Index(body, "| Cluster |")
	if blast < 0 || flagged < blast || table < flagged {
		t.Errorf("the comment does not start with the blast radius and the flags:\n%s", body)
	}
	for _, cluster := range []string{"staging", "production"} {
		if c, ok := change(rep, cluster, "apps", "Namespace", "podinfo"); !ok || c.Action != diff.ActionDeleted {
			t.Errorf("%s: Namespace podinfo = %+v, want deleted", cluster, c)
		}
	}
}
