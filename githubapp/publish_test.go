package githubapp

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

func TestPublishOpenedPullRequest(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	rep := w.report(fullReport())
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Status != "in_progress" || runs[0].Name != "fluxdiff" || runs[0].HeadSHA != w.head {
		t.Fatalf("after StartCheck: check runs %+v, want one in_progress fluxdiff run on the head", runs)
	}
	// A retried job starts the check again: still one run.
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, rep, 11, w.refs); err != nil {
		t.Fatal(err)
	}
	runs = w.checkRuns()
	if len(runs) != 1 {
		t.Fatalf("got %d check runs, want 1", len(runs))
	}
	run := runs[0]
	// fullReport has build errors and failed objects: failure.
	if run.Status != "completed" || run.Conclusion != "failure" || run.ExternalID != "11" {
		t.Errorf("check run %s/%s external ID %q, want completed/failure with report 11", run.Status, run.Conclusion, run.ExternalID)
	}
	if !strings.Contains(run.Output.Summary, "| <code>prod</code> | <code>flux-system/apps</code> | 1 | 1 | 1 | 0 |") {
		t.Errorf("the summary lacks the counts table:\n%s", run.Output.Summary)
	}
	if !strings.Contains(run.Output.Text, "key000: new-podinfo-values-0") {
		t.Error("the text lacks the diffs")
	}
	if len(run.Output.Annotations) != 1 || run.Output.Annotations[0].Path != "infra/broken.yaml" || run.Output.Annotations[0].StartLine != 3 {
		t.Errorf("annotations = %+v, want one on infra/broken.yaml:3", run.Output.Annotations)
	}
	if len(run.Actions) != 1 || run.Actions[0].Identifier != RerunActionID {
		t.Errorf("actions = %+v, want the Re-run button", run.Actions)
	}
	cs := w.stickies()
	if len(cs) != 1 || cs[0].User != w.gh.BotLogin() {
		t.Fatalf("got %d sticky comments, want 1 by the bot", len(cs))
	}
	if cs[0].Body != RenderComment(rep, RenderOptions{})[0] {
		t.Error("the comment is not the rendered report")
	}
	if got := w.refs.get(RefPRComment, "acme/fleet#42"); got.id != strconv.FormatInt(cs[0].ID, 10) || got.reportID != 11 {
		t.Errorf("comment ref = %+v, want comment %d with report 11", got, cs[0].ID)
	}
	if got := w.refs.get(RefCheckRun, "acme/fleet@"+w.head); got.id != strconv.FormatInt(run.ID, 10) {
		t.Errorf("check run ref = %+v, want run %d", got, run.ID)
	}
}

func TestPublishAgainUpdatesInPlace(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{ChangesConclusion: "success"})
	first := w.report(bigReport(1, 2, 2))
	if err := w.app.Publish(ctx, first, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	before := w.stickies()
	second := w.report(bigReport(1, 3, 2))
	if err := w.app.Publish(ctx, second, 2, w.refs); err != nil {
		t.Fatal(err)
	}
	after := w.stickies()
	if len(after) != 1 || after[0].ID != before[0].ID {
		t.Fatalf("comments %v after %v: want the same single comment", ids(after), ids(before))
	}
	if !strings.Contains(after[0].Body, "cm-0-2") {
		t.Error("the comment was not updated to the second report")
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("check runs %+v, want one concluded success (ChangesConclusion)", runs)
	}
	// The same report again changes nothing: no PATCH of the comment.
	patches := w.gh.CountRequests("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
	if err := w.app.Publish(ctx, second, 2, w.refs); err != nil {
		t.Fatal(err)
	}
	if got := w.gh.CountRequests("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"); got != patches {
		t.Errorf("an unchanged comment was edited (%d PATCHes, was %d)", got, patches)
	}
}

func ids(cs []githubtest.Comment) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestPublishSplitsAndDeletesSurplusParts(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	big := w.report(bigReport(2, 120, 20)) // well over one comment
	if err := w.app.Publish(ctx, big, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	parts := w.stickies()
	if len(parts) < 3 {
		t.Fatalf("got %d parts, want at least 3", len(parts))
	}
	for i, p := range parts {
		if !strings.HasPrefix(p.Body, StickyMarker("acme/fleet", 42, i+1, len(parts))) {
			t.Errorf("comment %d is not part %d/%d", p.ID, i+1, len(parts))
		}
	}
	var want []string
	for _, p := range parts {
		want = append(want, strconv.FormatInt(p.ID, 10))
	}
	if got := w.refs.get(RefPRComment, "acme/fleet#42").id; got != strings.Join(want, ",") {
		t.Errorf("comment ref = %q, want %q", got, strings.Join(want, ","))
	}
	checkParts(t, big, bodies(parts), CommentLimit)
	if text := w.checkRuns()[0].Output.Text; !strings.Contains(text, "The whole diff is in the pull request comment") || len(text) > CheckRunTextLimit {
		t.Errorf("the check run text (%d bytes) does not say where the rest of the diff is", len(text))
	}

	small := w.report(bigReport(1, 1, 1))
	if err := w.app.Publish(ctx, small, 2, w.refs); err != nil {
		t.Fatal(err)
	}
	left := w.stickies()
	if len(left) != 1 || left[0].ID != parts[0].ID {
		t.Fatalf("after a small report: comments %v, want only the first part %d kept", ids(left), parts[0].ID)
	}
	if got := w.refs.get(RefPRComment, "acme/fleet#42").id; got != strconv.FormatInt(parts[0].ID, 10) {
		t.Errorf("comment ref = %q after shrinking", got)
	}
}

func bodies(cs []githubtest.Comment) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Body)
	}
	return out
}

func TestPublishCommentModes(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{RepoCommentModes: map[string]string{"acme/fleet": CommentManual}})
	rep := w.report(fullReport())
	if err := w.app.Publish(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	if n := len(w.stickies()); n != 0 {
		t.Fatalf("manual mode posted %d comments", n)
	}
	if runs := w.checkRuns(); len(runs) != 1 || runs[0].Status != "completed" {
		t.Fatalf("manual mode: check runs %+v, want one completed", runs)
	}
	if !strings.Contains(w.checkRuns()[0].Output.Text, "<b>deleted</b>") {
		t.Error("manual mode: the check run lacks the diffs")
	}
	// Someone asks for the diff on the pull request (Slack's button).
	if err := w.app.PostComment(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	posted := w.stickies()
	if len(posted) != 1 || !strings.Contains(posted[0].Body, "<b>deleted</b>") {
		t.Fatalf("PostComment in manual mode: %d comments, want one with the diff", len(posted))
	}
	// Now that a comment exists, publishing updates it.
	if err := w.app.Publish(ctx, w.report(bigReport(1, 1, 1)), 2, w.refs); err != nil {
		t.Fatal(err)
	}
	if got := w.stickies(); len(got) != 1 || got[0].ID != posted[0].ID || !strings.Contains(got[0].Body, "cm-0-0") {
		t.Errorf("manual mode with an existing comment: %v, want comment %d updated", ids(got), posted[0].ID)
	}
}

func TestPublishSummaryMode(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{CommentMode: CommentSummary})
	if err := w.app.Publish(ctx, w.report(fullReport()), 1, w.refs); err != nil {
		t.Fatal(err)
	}
	cs := w.stickies()
	if len(cs) != 1 {
		t.Fatalf("got %d comments", len(cs))
	}
	if strings.Contains(cs[0].Body, "```diff") || !strings.Contains(cs[0].Body, "| **Total** |") {
		t.Error("a summary comment must hold the counts table and no diff")
	}
}

func TestPublishMergeConflict(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	rep := w.report(&diff.Report{Clusters: []string{"prod"}, Error: "the pull request has a merge conflict with main"})
	if err := w.app.Publish(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Conclusion != "failure" || runs[0].Output.Title != "The pull request could not be diffed" {
		t.Fatalf("check runs %+v, want one failure", runs)
	}
	if !strings.Contains(runs[0].Output.Summary, "merge conflict with main") {
		t.Error("the check run summary does not name the merge conflict")
	}
	cs := w.stickies()
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "could not be diffed") || !strings.Contains(cs[0].Body, "merge conflict with main") {
		t.Fatalf("comments %v, want one naming the merge conflict", bodies(cs))
	}
}

func TestPublishNothingAffected(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	nothing := w.report(&diff.Report{Clusters: []string{"prod"}, Kustomizations: []diff.KustomizationReport{}})
	if err := w.app.Publish(ctx, nothing, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	if n := len(w.stickies()); n != 0 {
		t.Fatalf("a pull request affecting nothing got %d comments, want none", n)
	}
	if runs := w.checkRuns(); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Fatalf("check runs %+v, want one success", runs)
	}
	// A pull request that affected something and no longer does: the
	// comment says so.
	if err := w.app.Publish(ctx, w.report(bigReport(1, 1, 1)), 2, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, nothing, 3, w.refs); err != nil {
		t.Fatal(err)
	}
	cs := w.stickies()
	if len(cs) != 1 || !strings.Contains(cs[0].Body, NoKustomizationText) {
		t.Fatalf("comments %v, want one saying nothing is affected", bodies(cs))
	}
}

func TestPublishReusesACommentMissingFromRefs(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	// A crash between creating the comment and saving its ID: the bot's
	// comment exists, refs know nothing. A person's comment quoting the
	// marker must not be taken.
	w.gh.AddComment("acme/fleet", 42, "mallory", StickyMarker("acme/fleet", 42, 1, 1)+"\nfake")
	old := w.gh.AddComment("acme/fleet", 42, w.gh.BotLogin(), StickyMarker("acme/fleet", 42, 1, 1)+"\nstale")
	if err := w.app.Publish(ctx, w.report(fullReport()), 1, w.refs); err != nil {
		t.Fatal(err)
	}
	var bots []githubtest.Comment
	for _, c := range w.stickies() {
		if c.User == w.gh.BotLogin() {
			bots = append(bots, c)
		}
	}
	if len(bots) != 1 || bots[0].ID != old.ID || strings.Contains(bots[0].Body, "stale") {
		t.Fatalf("bot comments %v, want comment %d reused and updated", ids(bots), old.ID)
	}
	if got := w.refs.get(RefPRComment, "acme/fleet#42").id; got != strconv.FormatInt(old.ID, 10) {
		t.Errorf("comment ref = %q, want %d", got, old.ID)
	}
}

func TestPublishRecreatesADeletedComment(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	// refs name a comment that someone deleted since.
	if err := w.refs.SaveRef(ctx, RefPRComment, "acme/fleet#42", "999999", 0); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, w.report(fullReport()), 1, w.refs); err != nil {
		t.Fatal(err)
	}
	cs := w.stickies()
	if len(cs) != 1 {
		t.Fatalf("got %d comments, want 1", len(cs))
	}
	if got := w.refs.get(RefPRComment, "acme/fleet#42").id; got != strconv.FormatInt(cs[0].ID, 10) {
		t.Errorf("comment ref = %q, want %d", got, cs[0].ID)
	}
}

func TestStartCheckAfterCompletionStartsANewRun(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, w.report(bigReport(1, 1, 1)), 1, w.refs); err != nil {
		t.Fatal(err)
	}
	// Re-run: a new run in progress, then completed; the first stays.
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	runs := w.checkRuns()
	if len(runs) != 2 || runs[0].Status != "completed" || runs[1].Status != "in_progress" {
		t.Fatalf("check runs %+v, want the completed one and a new in_progress one", runs)
	}
	if err := w.app.Publish(ctx, w.report(bigReport(1, 1, 1)), 2, w.refs); err != nil {
		t.Fatal(err)
	}
	if runs := w.checkRuns(); runs[1].Status != "completed" || runs[0].Updates != 1 {
		t.Errorf("the re-run's result went to the wrong run: %+v", runs)
	}
}

// TestPublishSendsNothingButTheReport publishes a report built from a tree
// whose Secret holds secretCanary (masked in the report, as the engine
// masks it) and checks that no request carries the canary, raw or base64,
// in its body or query.
func TestPublishSendsNothingButTheReport(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	secret := diff.Change{Action: diff.ActionConfigured, APIVersion: "v1", Kind: "Secret", Namespace: "podinfo", Name: "creds",
		Diff: "--- Secret/creds live\n+++ Secret/creds merged\n@@ -1 +1 @@\n data:\n-  token: '*** (before)'\n+  token: '*** (after)'"}
	rep := w.report(&diff.Report{Clusters: []string{"prod"}, Kustomizations: []diff.KustomizationReport{
		ks("prod", "flux-system", "apps", "./apps/prod", secret),
	}})
	if err := w.app.StartCheck(ctx, w.gh.InstallationID(), "acme/fleet", w.head, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.Publish(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	if err := w.app.PostComment(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	if n := len(w.gh.Requests()); n < 5 {
		t.Fatalf("only %d requests were logged", n)
	}
	// The stand-in itself fails the test at cleanup if a token or the
	// private key is in a body; the canary is checked here.
	for _, r := range w.gh.Leaks(secretCanary, base64.StdEncoding.EncodeToString([]byte(secretCanary))) {
		t.Errorf("%s %s carries the Secret's value", r.Method, r.Path)
	}
	if cs := w.stickies(); len(cs) != 1 || !strings.Contains(cs[0].Body, "*** (after)") {
		t.Error("the masked Secret diff was not published")
	}
}

func TestPublishAnnotatesPast50(t *testing.T) {
	ctx := context.Background()
	w := newPublishWorld(t, Config{})
	rep := w.report(&diff.Report{Clusters: []string{"prod"}})
	for i := range 60 {
		k := ks("prod", "flux-system", fmt.Sprintf("app-%d", i), fmt.Sprintf("./apps/%d", i))
		k.Error = fmt.Sprintf("build ./apps/%d: failed to decode Kubernetes YAML from apps/%d/a.yaml: MalformedYAMLError: yaml: line %d: did not find expected key", i, i, i+1)
		rep.Kustomizations = append(rep.Kustomizations, k)
	}
	if err := w.app.Publish(ctx, rep, 1, w.refs); err != nil {
		t.Fatal(err)
	}
	runs := w.checkRuns()
	if len(runs) != 1 || len(runs[0].Output.Annotations) != 60 {
		t.Fatalf("got %d runs, want one with 60 annotations (sent 50 per request)", len(runs))
	}
	last := runs[0].Output.Annotations[59]
	if last.Path != "apps/59/a.yaml" || last.StartLine != 60 {
		t.Errorf("last annotation %s:%d, want apps/59/a.yaml:60", last.Path, last.StartLine)
	}
}
