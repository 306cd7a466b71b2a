package chat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
)

// recordingQueue keeps what it is given; block makes it wait for ctx.
type recordingQueue struct {
	mu    sync.Mutex
	got   []CommandRequest
	block bool
	err   error
}

func (q *recordingQueue) EnqueueCommand(ctx context.Context, req CommandRequest) error {
	if q.block {
		<-ctx.Done()
		return ctx.Err()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.got = append(q.got, req)
	return q.err
}

func (q *recordingQueue) requests() []CommandRequest {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]CommandRequest(nil), q.got...)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// verified wraps h in Verify with the test secret.
func verified(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	mw, err := Verify(testSigningSecret)
	if err != nil {
		t.Fatal(err)
	}
	return mw(h)
}

// commandForm is a slash command as Slack posts it.
func commandForm(text string) url.Values {
	return url.Values{
		"token": {"unused"}, "team_id": {"T0FLUX"}, "team_domain": {"acme"}, "channel_id": {"C0DEPLOYS"}, "channel_name": {"deploys"},
		"user_id": {"U0ADA"}, "user_name": {"ada"}, "command": {"/flux-diff"}, "text": {text},
		"response_url": {"https://hooks.slack.com/commands/T0FLUX/1/abc"}, "trigger_id": {"1795680001.1.trigger"}, "api_app_id": {"A0FLUXDIFF"},
	}
}

// post sends form signed at (zero: unsigned) to h.
func post(h http.Handler, path string, form url.Values, at time.Time) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !at.IsZero() {
		chattest.Sign(r, testSigningSecret, at)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// ephemeralText decodes a slash command answer.
func ephemeralText(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var ans struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatalf("answer %q is not JSON: %v", w.Body.String(), err)
	}
	if ans.ResponseType != "ephemeral" {
		t.Errorf("response_type %q, want ephemeral", ans.ResponseType)
	}
	return ans.Text
}

func TestCommandsHandler(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		signedAt time.Time
		status   int
		answer   string // part of the ephemeral answer
		queued   bool
	}{
		{"a valid command is queued and answered Running", "ks apps --github-ref 12", time.Now(), 200, "Running `/flux-diff ks apps -n flux-system --github-ref 12`", true},
		{"help answers usage at once", "help", time.Now(), 200, "*Usage*", false},
		{"an unknown subcommand answers usage naming it", "deploy apps", time.Now(), 200, `unknown subcommand "deploy"`, false},
		{"a bad REF answers usage naming it", "ks apps --github-ref https://github.com/acme/fleet/issues/3", time.Now(), 200, "is not a pull request URL", false},
		{"an unsigned request is refused", "ks apps", time.Time{}, 401, "", false},
		{"a stale signature is refused", "ks apps", time.Now().Add(-10 * time.Minute), 401, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &recordingQueue{}
			w := post(verified(t, CommandsHandler(q, discardLogger())), "/slack/commands", commandForm(tt.text), tt.signedAt)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body.String())
			}
			if tt.status == 200 {
				if got := ephemeralText(t, w); !strings.Contains(got, tt.answer) {
					t.Errorf("answer %q does not contain %q", got, tt.answer)
				}
			}
			got := q.requests()
			if (len(got) == 1) != tt.queued || len(got) > 1 {
				t.Fatalf("queued %d commands, want queued=%v", len(got), tt.queued)
			}
			if tt.queued {
				req := got[0]
				if req.UserID != "U0ADA" || req.ChannelID != "C0DEPLOYS" || req.TeamID != "T0FLUX" || req.TriggerID == "" ||
					req.ResponseURL != "https://hooks.slack.com/commands/T0FLUX/1/abc" || req.Command.Name != "apps" || req.Command.Ref.Number != 12 {
					t.Errorf("queued request %+v", req)
				}
			}
		})
	}
}

func TestCommandsHandlerAnswersInTimeWhenTheQueueHangs(t *testing.T) {
	q := &recordingQueue{block: true}
	start := time.Now()
	w := post(verified(t, CommandsHandler(q, discardLogger())), "/slack/commands", commandForm("ks apps"), time.Now())
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("answered after %v; Slack gives up after 3 s", took)
	}
	if got := ephemeralText(t, w); !strings.Contains(got, "could not queue") {
		t.Errorf("answer %q does not say the command was not queued", got)
	}
}

func TestCommandsHandlerSaysWhenEnqueueFails(t *testing.T) {
	q := &recordingQueue{err: errors.New("store: connection refused")}
	w := post(verified(t, CommandsHandler(q, discardLogger())), "/slack/commands", commandForm("ks apps"), time.Now())
	if got := ephemeralText(t, w); !strings.Contains(got, "could not queue") || strings.Contains(got, "connection refused") {
		t.Errorf("answer %q: want a plain retry message without internals", got)
	}
}

// blockingRunner records interactions and holds each until release.
type blockingRunner struct {
	got     chan Interaction
	release chan struct{}
}

func (r *blockingRunner) RunInteraction(ctx context.Context, in Interaction) error {
	r.got <- in
	select {
	case <-r.release:
	case <-ctx.Done():
	}
	return nil
}

func interactionForm(t *testing.T, file string) url.Values {
	return url.Values{"payload": {string(readPayload(t, file))}}
}

func TestInteractionsHandler(t *testing.T) {
	run := &blockingRunner{got: make(chan Interaction, 4), release: make(chan struct{})}
	h := NewInteractionsHandler(run, InteractionsOptions{Logger: discardLogger(), Workers: 1})
	srv := verified(t, h)

	start := time.Now()
	if w := post(srv, "/slack/interactions", interactionForm(t, "approve.json"), time.Now()); w.Code != 200 {
		t.Fatalf("click: %d %s", w.Code, w.Body.String())
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("acknowledged after %v while the action still runs", took)
	}
	select {
	case in := <-run.got:
		if in.Action != ActionApprove || in.ReportID != 7 || in.UserID != "U0ADA" {
			t.Errorf("runner got %+v", in)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the runner was not called")
	}

	t.Run("a click beyond the workers is answered 503", func(t *testing.T) {
		if w := post(srv, "/slack/interactions", interactionForm(t, "ephemeral-post.json"), time.Now()); w.Code != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", w.Code)
		}
	})
	t.Run("other apps' buttons and View PR are acknowledged and not run", func(t *testing.T) {
		for _, f := range []string{"other-app.json", "view-submission.json"} {
			if w := post(srv, "/slack/interactions", interactionForm(t, f), time.Now()); w.Code != 200 {
				t.Errorf("%s: status %d", f, w.Code)
			}
		}
		view := strings.Replace(string(readPayload(t, "approve.json")), `"action_id": "fluxdiff_approve_pr", "block_id": "fluxdiff_actions", "text"`, `"action_id": "fluxdiff_view_pr", "block_id": "fluxdiff_actions", "text"`, 1)
		if w := post(srv, "/slack/interactions", url.Values{"payload": {view}}, time.Now()); w.Code != 200 {
			t.Errorf("view PR: status %d", w.Code)
		}
	})
	t.Run("a bad button value is refused", func(t *testing.T) {
		if w := post(srv, "/slack/interactions", interactionForm(t, "bad-value.json"), time.Now()); w.Code != 400 {
			t.Errorf("status %d, want 400", w.Code)
		}
	})
	t.Run("an unsigned click is refused", func(t *testing.T) {
		if w := post(srv, "/slack/interactions", interactionForm(t, "approve.json"), time.Time{}); w.Code != 401 {
			t.Errorf("status %d, want 401", w.Code)
		}
	})
	select {
	case in := <-run.got:
		t.Fatalf("the runner was called again with %+v", in)
	default:
	}

	close(run.release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if w := post(srv, "/slack/interactions", interactionForm(t, "approve.json"), time.Now()); w.Code != http.StatusServiceUnavailable {
		t.Errorf("after Wait: status %d, want 503", w.Code)
	}
}
