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

// recordingInteractions keeps the clicks it is given; err fails them.
type recordingInteractions struct {
	mu  sync.Mutex
	got []Interaction
	err error
}

func (q *recordingInteractions) EnqueueInteraction(_ context.Context, in Interaction) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.got = append(q.got, in)
	return nil
}

func (q *recordingInteractions) clicks() []Interaction {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Interaction(nil), q.got...)
}

func interactionForm(t *testing.T, file string) url.Values {
	return url.Values{"payload": {string(readPayload(t, file))}}
}

func TestInteractionsHandler(t *testing.T) {
	q := &recordingInteractions{}
	srv := verified(t, InteractionsHandler(q, discardLogger()))

	for _, f := range []string{"approve.json", "ephemeral-post.json"} {
		if w := post(srv, "/slack/interactions", interactionForm(t, f), time.Now()); w.Code != 200 {
			t.Fatalf("click %s: %d %s", f, w.Code, w.Body.String())
		}
	}
	got := q.clicks()
	if len(got) != 2 || got[0].Action != ActionApprove || got[0].ReportID != 7 || got[0].TriggerID != "1795680001.1.abcdef" ||
		len(got[0].Blocks) != 4 || got[1].Action != ActionPostToPR || got[1].ReportID != 42 {
		t.Fatalf("queued clicks %+v", got)
	}

	t.Run("other apps' buttons and View PR are acknowledged and not queued", func(t *testing.T) {
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
	if n := len(q.clicks()); n != 2 {
		t.Errorf("%d clicks queued, want only the first 2", n)
	}

	t.Run("a click that cannot be queued is answered 503 without internals", func(t *testing.T) {
		failing := &recordingInteractions{err: errors.New("store: connection refused")}
		w := post(verified(t, InteractionsHandler(failing, discardLogger())), "/slack/interactions", interactionForm(t, "approve.json"), time.Now())
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "connection refused") {
			t.Errorf("status %d, body %q; want 503 without the error", w.Code, w.Body.String())
		}
	})
}
