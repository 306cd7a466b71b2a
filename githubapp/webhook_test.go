package githubapp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testSecret = []byte("webhook-secret")

const (
	testAppID  = 29310     // the app ID in the check_suite payloads
	testRepoID = 186853002 // Codertocat/Hello-World in the payloads
)

func newTestHandler(d *recordingDispatcher, mod func(*WebhookOptions)) http.Handler {
	opts := WebhookOptions{Secret: testSecret, AppID: testAppID, Dispatcher: d}
	if mod != nil {
		mod(&opts)
	}
	return NewWebhookHandler(opts)
}

func TestWebhookRejectsUnverifiedDeliveries(t *testing.T) {
	body := payload(t, "pull_request.opened.2", nil)
	tests := []struct {
		name   string
		header func(h http.Header)
		secret []byte
		want   int
	}{
		{name: "missing signature", header: func(h http.Header) { h.Del("X-Hub-Signature-256") }, secret: testSecret, want: http.StatusUnauthorized},
		{name: "signature made with another secret", header: func(h http.Header) { h.Set("X-Hub-Signature-256", sign([]byte("other"), body)) }, secret: testSecret, want: http.StatusUnauthorized},
		{name: "garbled signature", header: func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256=zz") }, secret: testSecret, want: http.StatusUnauthorized},
		{name: "only the legacy SHA-1 header", header: func(h http.Header) {
			h.Del("X-Hub-Signature-256")
			h.Set("X-Hub-Signature", "sha1=0000000000000000000000000000000000000000")
		}, secret: testSecret, want: http.StatusUnauthorized},
		{name: "no secret configured, even with an empty-key signature", header: func(h http.Header) { h.Set("X-Hub-Signature-256", sign(nil, body)) }, secret: nil, want: http.StatusUnauthorized},
		{name: "unsupported content type", header: func(h http.Header) { h.Set("Content-Type", "text/plain") }, secret: testSecret, want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			h := newTestHandler(d, func(o *WebhookOptions) { o.Secret = tt.secret })
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "pull_request")
			req.Header.Set("X-Hub-Signature-256", sign(testSecret, body))
			tt.header(req.Header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
			if d.calls() != 0 {
				t.Errorf("the dispatcher was called %d times for an unverified delivery", d.calls())
			}
		})
	}
}

func TestWebhookRejectsOversizedBodies(t *testing.T) {
	d := &recordingDispatcher{}
	body := append([]byte(`{"action":"opened","x":"`), bytes.Repeat([]byte("a"), MaxWebhookBytes)...)
	body = append(body, `"}`...)
	if got := deliver(t, newTestHandler(d, nil), testSecret, "pull_request", body); got != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", got)
	}
	if d.calls() != 0 {
		t.Error("the dispatcher was called for an oversized delivery")
	}
}

func TestWebhookAcceptsFormEncodedDeliveries(t *testing.T) {
	d := &recordingDispatcher{}
	body := []byte(url.Values{"payload": {string(payload(t, "pull_request.opened.2", nil))}}.Encode())
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-Hub-Signature-256", sign(testSecret, body))
	rec := httptest.NewRecorder()
	newTestHandler(d, nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || len(d.diffs) != 1 {
		t.Errorf("status = %d with %d diffs, want 202 and one diff", rec.Code, len(d.diffs))
	}
}

func TestWebhookAnswersBadPayloadsWith400(t *testing.T) {
	for _, event := range []string{"pull_request", "issue_comment", "check_run", "check_suite", "ping"} {
		t.Run(event, func(t *testing.T) {
			d := &recordingDispatcher{}
			if got := deliver(t, newTestHandler(d, nil), testSecret, event, []byte(`{"action": "opened", `)); got != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", got)
			}
			if d.calls() != 0 {
				t.Error("the dispatcher was called for a garbled payload")
			}
		})
	}
}

func TestWebhookAppEventsAnswer200AndOthers202(t *testing.T) {
	tests := []struct {
		event, file string
		want        int
	}{
		{"ping", "ping.event.1", http.StatusOK},
		{"installation", "installation.created.1", http.StatusOK},
		{"installation_repositories", "installation_repositories.added.1", http.StatusOK},
		{"pull_request_review", "pull_request_review.submitted.1", http.StatusAccepted},
		{"pull_request", "pull_request.labeled.1", http.StatusAccepted},
		{"check_run", "check_run.completed.1", http.StatusAccepted},
		{"check_suite", "check_suite.requested.1", http.StatusAccepted},
		{"issue_comment", "issue_comment.deleted.1", http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := &recordingDispatcher{}
			if got := deliver(t, newTestHandler(d, nil), testSecret, tt.event, payload(t, tt.file, nil)); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
			if d.calls() != 0 {
				t.Errorf("the dispatcher was called %d times", d.calls())
			}
		})
	}
}

func TestWebhookDispatcherFailureAnswers503(t *testing.T) {
	d := &recordingDispatcher{fail: true}
	if got := deliver(t, newTestHandler(d, nil), testSecret, "pull_request", payload(t, "pull_request.opened.2", nil)); got != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", got)
	}
}

func TestWebhookPullRequest(t *testing.T) {
	const sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	want := func(trigger string) []DiffRequest {
		return []DiffRequest{{DeliveryID: "d-1", InstallationID: 1, Repo: "Codertocat/Hello-World", PR: 2, HeadSHA: sha, Trigger: trigger}}
	}
	fork := map[string]any{"pull_request.head.repo.id": 42, "pull_request.head.repo.full_name": "someone/Hello-World"}
	tests := []struct {
		name    string
		file    string
		edits   map[string]any
		mod     func(*WebhookOptions)
		want    []DiffRequest
		cancels []string
	}{
		{name: "opened is diffed", file: "pull_request.opened.2", want: want("pull_request.opened")},
		{name: "synchronize is diffed", file: "pull_request.synchronize.1", want: want("pull_request.synchronize")},
		{name: "reopened is diffed", file: "pull_request.reopened.1", want: want("pull_request.reopened")},
		{name: "ready_for_review is diffed even when drafts are skipped", file: "pull_request.ready_for_review.2",
			mod: func(o *WebhookOptions) { o.SkipDrafts = true }, want: want("pull_request.ready_for_review")},
		{name: "a draft is diffed by default", file: "pull_request.opened.2", edits: map[string]any{"pull_request.draft": true}, want: want("pull_request.opened")},
		{name: "a draft is skipped with SkipDrafts", file: "pull_request.opened.2", edits: map[string]any{"pull_request.draft": true},
			mod: func(o *WebhookOptions) { o.SkipDrafts = true }},
		{name: "a fork is not diffed by default", file: "pull_request.opened.2", edits: fork},
		{name: "a deleted fork (head.repo null) is not diffed", file: "pull_request.synchronize.1", edits: map[string]any{"pull_request.head.repo": nil}},
		{name: "a fork is diffed with AllowForks", file: "pull_request.opened.2", edits: fork,
			mod: func(o *WebhookOptions) { o.AllowForks = true }, want: want("pull_request.opened")},
		{name: "closed cancels", file: "pull_request.closed.1", cancels: []string{"d-1 Codertocat/Hello-World#2"}},
		{name: "converted_to_draft is ignored", file: "pull_request.converted_to_draft.2"},
		{name: "edited onto another base branch is diffed", file: "pull_request.synchronize.1",
			edits: map[string]any{"action": "edited", "changes.base.ref.from": "develop", "changes.base.sha.from": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
			want:  want("pull_request.edited")},
		{name: "a draft edited onto another base branch is skipped with SkipDrafts", file: "pull_request.synchronize.1",
			edits: map[string]any{"action": "edited", "changes.base.ref.from": "develop", "pull_request.draft": true},
			mod:   func(o *WebhookOptions) { o.SkipDrafts = true }},
		{name: "edited title is ignored", file: "pull_request.synchronize.1",
			edits: map[string]any{"action": "edited", "changes.title.from": "Old title"}},
		{name: "edited body is ignored", file: "pull_request.synchronize.1",
			edits: map[string]any{"action": "edited", "changes.body.from": "Old body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			if got := deliver(t, newTestHandler(d, tt.mod), testSecret, "pull_request", payload(t, tt.file, tt.edits)); got != http.StatusAccepted {
				t.Errorf("status = %d, want 202", got)
			}
			if diff := cmp.Diff(tt.want, d.diffs); diff != "" {
				t.Errorf("DiffPR calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.cancels, d.cancels); diff != "" {
				t.Errorf("CancelPR calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookIssueComment(t *testing.T) {
	onPR := func(body string, more map[string]any) map[string]any {
		e := map[string]any{
			"installation.id":      7,
			"issue.pull_request":   map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"},
			"comment.body":         body,
			"comment.id":           9001,
			"comment.user.login":   "octocat",
			"comment.user.type":    "User",
			"repository.full_name": "Codertocat/Hello-World",
		}
		for k, v := range more {
			e[k] = v
		}
		return e
	}
	cmd := CommentCommand{DeliveryID: "d-1", InstallationID: 7, Repo: "Codertocat/Hello-World", PR: 1, CommentID: 9001, User: "octocat", Body: "/flux-diff ks apps"}
	tests := []struct {
		name  string
		file  string
		edits map[string]any
		want  []CommentCommand
	}{
		{name: "a command on a pull request is queued as it is", file: "issue_comment.created.1", edits: onPR("/flux-diff ks apps", nil), want: []CommentCommand{cmd}},
		{name: "a command that will not parse is still queued (its author gets the reply)", file: "issue_comment.created.1",
			edits: onPR("/flux-diff bogus", nil), want: []CommentCommand{{DeliveryID: "d-1", InstallationID: 7, Repo: "Codertocat/Hello-World", PR: 1, CommentID: 9001, User: "octocat", Body: "/flux-diff bogus"}}},
		{name: "a command on an issue is ignored", file: "issue_comment.created.1", edits: onPR("/flux-diff", map[string]any{"issue.pull_request": nil})},
		{name: "an ordinary comment is ignored", file: "issue_comment.created.1", edits: onPR("LGTM, /flux-diff later", nil)},
		{name: "an edited command is ignored", file: "issue_comment.edited.1", edits: onPR("/flux-diff", nil)},
		{name: "a bot's command is ignored", file: "issue_comment.created.1", edits: onPR("/flux-diff", map[string]any{"comment.user.type": "Bot"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			if got := deliver(t, newTestHandler(d, nil), testSecret, "issue_comment", payload(t, tt.file, tt.edits)); got != http.StatusAccepted {
				t.Errorf("status = %d, want 202", got)
			}
			if diff := cmp.Diff(tt.want, d.cmds); diff != "" {
				t.Errorf("Comment calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookCheckRerun(t *testing.T) {
	const sha = "d6fde92930d4715a2b49857d24b940956b26d2d3"
	prs := func(nums ...int) []any {
		var out []any
		for _, n := range nums {
			out = append(out, map[string]any{"number": n, "base": map[string]any{"repo": map[string]any{"id": testRepoID}}})
		}
		return out
	}
	ours := func(action string, more map[string]any) map[string]any {
		e := map[string]any{
			"check_run.app.id": testAppID, "check_run.head_sha": sha, "check_run.pull_requests": prs(2),
			"repository.id": testRepoID, "repository.full_name": "Codertocat/Hello-World", "installation.id": 3,
			"sender.login": "octocat", "action": action,
		}
		for k, v := range more {
			e[k] = v
		}
		return e
	}
	req := func(pr int, trigger, delivery string) DiffRequest {
		return DiffRequest{DeliveryID: delivery, InstallationID: 3, Repo: "Codertocat/Hello-World", PR: pr, HeadSHA: sha, Trigger: trigger, RequestedBy: "octocat"}
	}
	otherRepoPR := map[string]any{"number": 77, "base": map[string]any{"repo": map[string]any{"id": 1}}}
	tests := []struct {
		name, event, file string
		edits             map[string]any
		want              []DiffRequest
	}{
		{name: "re-run of our check run", event: "check_run", file: "check_run.created.1", edits: ours("rerequested", nil),
			want: []DiffRequest{req(2, "check_run.rerequested", "d-1")}},
		{name: "our Re-run button", event: "check_run", file: "check_run.requested_action.1",
			edits: ours("requested_action", map[string]any{"requested_action.identifier": RerunActionID}),
			want:  []DiffRequest{req(2, "check_run.requested_action", "d-1")}},
		{name: "another button", event: "check_run", file: "check_run.requested_action.1",
			edits: ours("requested_action", map[string]any{"requested_action.identifier": "lgtm|26764"})},
		{name: "a requested_action without its action", event: "check_run", file: "check_run.created.1", edits: ours("requested_action", nil)},
		{name: "another app's check run", event: "check_run", file: "check_run.created.1", edits: ours("rerequested", map[string]any{"check_run.app.id": 2})},
		{name: "a check run without pull requests", event: "check_run", file: "check_run.created.1", edits: ours("rerequested", map[string]any{"check_run.pull_requests": []any{}})},
		{name: "several pull requests get one diff each, other repositories' skipped", event: "check_run", file: "check_run.created.1",
			edits: ours("rerequested", map[string]any{"check_run.pull_requests": append(prs(2, 5), otherRepoPR)}),
			want:  []DiffRequest{req(2, "check_run.rerequested", "d-1/pr-2"), req(5, "check_run.rerequested", "d-1/pr-5")}},
		{name: "created check runs are ignored", event: "check_run", file: "check_run.created.1", edits: ours("created", nil)},
		{name: "re-run of our check suite", event: "check_suite", file: "check_suite.rerequested.1",
			edits: map[string]any{"check_suite.head_sha": sha, "installation.id": 3, "sender.login": "octocat"},
			want:  []DiffRequest{req(2, "check_suite.rerequested", "d-1")}},
		{name: "another app's check suite", event: "check_suite", file: "check_suite.rerequested.1", edits: map[string]any{"check_suite.app.id": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			if got := deliver(t, newTestHandler(d, nil), testSecret, tt.event, payload(t, tt.file, tt.edits)); got != http.StatusAccepted {
				t.Errorf("status = %d, want 202", got)
			}
			if diff := cmp.Diff(tt.want, d.diffs); diff != "" {
				t.Errorf("DiffPR calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookIgnoresChecksWithoutAppID(t *testing.T) {
	d := &recordingDispatcher{}
	h := newTestHandler(d, func(o *WebhookOptions) { o.AppID = 0 })
	// An app ID of 0 in the payload must not match the unset option.
	got := deliver(t, h, testSecret, "check_suite", payload(t, "check_suite.rerequested.1", map[string]any{"check_suite.app.id": 0}))
	if got != http.StatusAccepted || d.calls() != 0 {
		t.Errorf("status %d with %d calls; want 202 and a check suite not re-run without a known App ID", got, d.calls())
	}
}

// A verified delivery that no job could act on is refused at once: without
// an installation no token can be had, and without X-GitHub-Event nothing
// says what the payload is.
func TestWebhookRefusesDeliveriesNoJobCouldActOn(t *testing.T) {
	d := &recordingDispatcher{}
	h := newTestHandler(d, nil)
	noInstallation := payload(t, "pull_request.opened.1", nil) // the recorded example has no installation
	if got := deliver(t, h, testSecret, "pull_request", noInstallation); got != http.StatusBadRequest {
		t.Errorf("pull_request without installation: status %d, want 400", got)
	}
	if got := deliver(t, h, testSecret, "", payload(t, "pull_request.opened.1", map[string]any{"installation.id": 7})); got != http.StatusBadRequest {
		t.Errorf("no X-GitHub-Event: status %d, want 400", got)
	}
	if d.calls() != 0 {
		t.Errorf("the dispatcher was called %d times", d.calls())
	}
}
