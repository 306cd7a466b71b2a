package slacke2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/servertest"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// answer is the synchronous answer to a slash command.
type answer struct {
	status      int
	text        string
	took        time.Duration
	responseURL string
}

// command types `/flux-diff text` as user in cmdChannel, signed at at (zero:
// unsigned).
func (w *world) command(t *testing.T, text, user string, at time.Time) answer {
	t.Helper()
	n := w.seq.Add(1)
	a := answer{responseURL: w.sl.ResponseURL("", "")}
	form := url.Values{"token": {"unused"}, "team_id": {"T0FLUX"}, "team_domain": {"acme"}, "channel_id": {cmdChannel},
		"channel_name": {"deploys"}, "user_id": {user}, "user_name": {strings.ToLower(user)}, "command": {"/flux-diff"},
		"text": {text}, "response_url": {a.responseURL}, "trigger_id": {fmt.Sprintf("%d.1.trigger", n)}, "api_app_id": {"A0FLUXDIFF"}}
	start := time.Now()
	res := w.post(t, "/slack/commands", form, at)
	a.took, a.status = time.Since(start), res.StatusCode
	var body struct{ Text string }
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	a.text = body.Text
	return a
}

func (w *world) post(t *testing.T, path string, form url.Values, at time.Time) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !at.IsZero() {
		chattest.Sign(req, signingSecret, at)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// click presses the button action of message m as user, with the payload
// Slack sends (the message's blocks, the button's value), and returns the
// status and the response URL given.
func (w *world) click(t *testing.T, m chattest.Message, action, user string) (int, string) {
	t.Helper()
	raw, responseURL, err := w.sl.Click(m, action, user)
	if err != nil {
		t.Fatal(err)
	}
	res := w.post(t, "/slack/interactions", url.Values{"payload": {string(raw)}}, time.Now())
	res.Body.Close()
	return res.StatusCode, responseURL
}

func hasButton(m chattest.Message, action string) bool {
	return strings.Contains(string(m.Blocks), `"action_id":"`+action+`"`)
}

func texts(m chattest.Message) string { return strings.Join(m.BlockTexts(), "\n") }

// waitMessage waits for a top-level message of channel, after the first
// skip ones, that satisfies ok.
func (w *world) waitMessage(t *testing.T, channel string, skip int, ok func(chattest.Message) bool) chattest.Message {
	t.Helper()
	var found chattest.Message
	waitFor(t, "a Slack message in "+channel, func() bool {
		n := 0
		for _, m := range w.sl.Messages(channel) {
			if m.ThreadTS != "" {
				continue
			}
			if n++; n > skip && ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// commandMessage runs a command as ada and returns the message it posts in
// cmdChannel; an answer to ada alone instead fails the test with its text.
func (w *world) commandMessage(t *testing.T, text string) chattest.Message {
	t.Helper()
	before := len(w.topLevel(cmdChannel))
	a := w.command(t, text, userAda, time.Now())
	if a.status != http.StatusOK || !strings.Contains(a.text, "Running") {
		t.Fatalf("/flux-diff %s: %d %q", text, a.status, a.text)
	}
	var found chattest.Message
	waitFor(t, "the answer to /flux-diff "+text, func() bool {
		if ms := w.topLevel(cmdChannel); len(ms) > before {
			found = ms[before]
			return true
		}
		if rs := w.sl.Responses(a.responseURL); len(rs) > 0 {
			t.Fatalf("/flux-diff %s was answered %q", text, rs[0].Text)
		}
		return false
	})
	return found
}

// topLevel counts the top-level messages of channel.
func (w *world) topLevel(channel string) []chattest.Message {
	var out []chattest.Message
	for _, m := range w.sl.Messages(channel) {
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

// waitResponse waits for a post to responseURL containing want.
func (w *world) waitResponse(t *testing.T, responseURL, want string) chattest.Response {
	t.Helper()
	var got chattest.Response
	waitFor(t, fmt.Sprintf("a response saying %q", want), func() bool {
		for _, r := range w.sl.Responses(responseURL) {
			if strings.Contains(r.Text, want) {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// report reads the stored report whose ID a message's buttons or status
// line carry.
func (w *world) report(t *testing.T, m chattest.Message) (store.Report, diff.Report) {
	t.Helper()
	var id int64
	for _, line := range m.BlockTexts() {
		if _, err := fmt.Sscanf(line, "fluxdiff report %d", &id); err == nil {
			break
		}
	}
	if id == 0 {
		t.Fatalf("message %s names no report", m.TS)
	}
	st, err := w.st.Report(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var r diff.Report
	if err := json.Unmarshal(st.Body, &r); err != nil {
		t.Fatal(err)
	}
	return st, r
}

// openAndSend opens (or pushes to) a pull request and delivers its signed
// pull_request webhook.
func (w *world) openAndSend(t *testing.T, p servertest.PR, file string) string {
	t.Helper()
	head := w.Open(p)
	payload, err := w.Payload(file, p.Number, head)
	if err != nil {
		t.Fatal(err)
	}
	code, err := servertest.Send(t.Context(), w.ts.URL+"/webhooks/github", webhookSecret, "pull_request",
		fmt.Sprintf("delivery-%d", w.seq.Add(1)), payload)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	return head
}

func replaceIn(t *testing.T, files map[string][]byte, path, old, new string) []byte {
	t.Helper()
	b, err := servertest.Edit(files, path, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustSecretChanges(t *testing.T, base map[string][]byte, fileCanary string) map[string][]byte {
	t.Helper()
	files, err := servertest.SecretChanges(base, fileCanary)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
