package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

const podinfoRelease = "apps/base/podinfo/release.yaml"

// supersededPushIsSkipped pushes a second commit while the first one's
// diff is running (held at its source tarball): the first commit's check
// run, in progress until then, is completed as skipped and names the new
// head, whose own check run carries the diff.
func supersededPushIsSkipped(t *testing.T, w *world) {
	held, release := w.gh.Hold("GET", "/repos/{owner}/{repo}/tarball/{ref}")
	t.Cleanup(release)
	first := w.open(t, servertest.PR{Number: 11, Title: "Bump podinfo twice", Changes: map[string][]byte{
		podinfoRelease: replaceIn(t, w.Base, podinfoRelease, "tag: 7.0.6", "tag: 7.4.0"),
	}})
	if code := w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 11, first), webhookSecret); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d, want 202", code)
	}
	select {
	case <-held:
	case <-time.After(2 * time.Minute):
		t.Fatal("the first commit's diff never fetched its source")
	}
	if runs := runsOf(w, first); len(runs) != 1 || runs[0].Status != "in_progress" {
		t.Fatalf("check runs of the first commit while its diff runs: %+v, want one in_progress", runs)
	}
	second := w.open(t, servertest.PR{Number: 11, Changes: map[string][]byte{
		podinfoRelease: replaceIn(t, w.Base, podinfoRelease, "tag: 7.0.6", "tag: 7.4.1"),
	}})
	w.send(t, "pull_request", w.payload(t, "pull_request.synchronize.1.json", 11, second), webhookSecret)
	if cr := w.waitCheck(t, second); cr.Conclusion != "neutral" {
		t.Errorf("the new head's check run concluded %q, want neutral (changes, no errors)", cr.Conclusion)
	}
	old := w.waitCheck(t, first)
	if old.Conclusion != "skipped" || !strings.Contains(old.Output.Summary, second) {
		t.Errorf("the superseded check run is %s/%s with summary %q; want skipped, naming %s", old.Status, old.Conclusion, old.Output.Summary, second)
	}
	if runs := runsOf(w, first); len(runs) != 1 {
		t.Errorf("the first commit has %d check runs, want its one run closed", len(runs))
	}
	if c := w.gh.Comments(fleetRepo, 11); len(c) != 1 || !strings.Contains(c[0].Body, "7.4.1") || strings.Contains(c[0].Body, "7.4.0") {
		t.Errorf("comments %+v, want one showing only the new head's diff", c)
	}
}

// baseChangeIsDiffed edits a diffed pull request twice: a new title
// (nothing to do) and a new base branch, which makes a new merge result:
// the same head is diffed again, in a new check run.
func baseChangeIsDiffed(t *testing.T, w *world) {
	head := w.open(t, servertest.PR{Number: 12, Title: "Retarget", Changes: map[string][]byte{
		podinfoRelease: replaceIn(t, w.Base, podinfoRelease, "tag: 7.0.6", "tag: 7.5.0"),
	}})
	w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 12, head), webhookSecret)
	w.waitCheck(t, head)
	edited := func(changes map[string]any) map[string]any {
		p := w.payload(t, "pull_request.synchronize.1.json", 12, head)
		p["action"], p["changes"] = "edited", changes
		return p
	}
	for _, changes := range []map[string]any{
		{"title": map[string]any{"from": "Retarget to develop"}},
		{"base": map[string]any{"ref": map[string]any{"from": "develop"}, "sha": map[string]any{"from": w.BaseSHA}}},
	} {
		if code := w.send(t, "pull_request", edited(changes), webhookSecret); code != http.StatusAccepted {
			t.Fatalf("edited webhook answered %d, want 202", code)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for completed(runsOf(w, head)) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // room for a wrong third diff (the title edit's)
	runs := runsOf(w, head)
	if len(runs) != 2 || completed(runs) != 2 {
		t.Fatalf("check runs of the head: %+v; want the first diff's and the base change's, both completed", runs)
	}
	if got := w.lastReport(t, 12).PullRequest.Trigger; got != "pull_request.edited" {
		t.Errorf("the last report was triggered by %q, want pull_request.edited", got)
	}
	if n := len(mustReports(t, w, 12)); n != 2 {
		t.Errorf("%d reports of #12, want 2 (the title edit diffs nothing)", n)
	}
}

// runsOf returns the check runs of sha, oldest first.
func runsOf(w *world, sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, cr := range w.gh.CheckRuns(fleetRepo) {
		if cr.HeadSHA == sha {
			out = append(out, cr)
		}
	}
	return out
}

func completed(runs []githubtest.CheckRun) int {
	n := 0
	for _, cr := range runs {
		if cr.Status == "completed" {
			n++
		}
	}
	return n
}
