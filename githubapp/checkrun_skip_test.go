package githubapp

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

func TestSkipCheckClosesTheSupersededRunOnce(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	newer := githubtest.SHA("newer push")
	// No run of ours on the commit: nothing is created.
	if err := w.app.SkipCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, newer, w.refs); err != nil {
		t.Fatal(err)
	}
	if runs := w.checkRuns(); len(runs) != 0 {
		t.Fatalf("SkipCheck without a run made %+v", runs)
	}
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds it completed and sends nothing
		if err := w.app.SkipCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, newer, w.refs); err != nil {
			t.Fatal(err)
		}
	}
	runs := w.checkRuns()
	if len(runs) != 1 {
		t.Fatalf("check runs %+v, want the one started", runs)
	}
	run := runs[0]
	if run.Status != "completed" || run.Conclusion != "skipped" || run.Updates != 1 || run.CompletedAt.IsZero() {
		t.Errorf("check run %s/%s after %d updates, want completed/skipped after one", run.Status, run.Conclusion, run.Updates)
	}
	if !strings.Contains(run.Output.Summary, newer) || !strings.Contains(run.Output.Title, newer[:7]) {
		t.Errorf("output %q / %q does not name the newer head %s", run.Output.Title, run.Output.Summary, newer)
	}
}

func TestSkipCheckLeavesAPublishedRun(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, w.report(bigReport(1, 1, 1)), 1, w.refs); err != nil {
		t.Fatal(err)
	}
	before := w.checkRuns()
	if err := w.app.SkipCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, githubtest.SHA("newer"), w.refs); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, w.checkRuns()); d != "" {
		t.Errorf("SkipCheck changed a published run (-before +after):\n%s", d)
	}
}
