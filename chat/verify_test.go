package chat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
)

const testSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// echo answers 200 with the body it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, _ = w.Write(b)
})

func TestVerify(t *testing.T) {
	mw, err := Verify(testSigningSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(echo)
	body := "token=x&team_id=T1&user_id=U1&command=%2Fflux-diff&text=ks+apps"
	tests := []struct {
		name   string
		sign   func(r *http.Request)
		status int
		reason string
	}{
		{"a request signed now passes with its body intact", func(r *http.Request) { chattest.Sign(r, testSigningSecret, time.Now()) }, http.StatusOK, ""},
		{"4 minutes old is inside the window", func(r *http.Request) { chattest.Sign(r, testSigningSecret, time.Now().Add(-4*time.Minute)) }, http.StatusOK, ""},
		{"no signature headers", func(r *http.Request) {}, http.StatusUnauthorized, "missing X-Slack-Signature"},
		{"signed with another secret", func(r *http.Request) { chattest.Sign(r, "another-secret", time.Now()) }, http.StatusUnauthorized, "signature does not match"},
		{"stale: 6 minutes old", func(r *http.Request) { chattest.Sign(r, testSigningSecret, time.Now().Add(-6*time.Minute)) }, http.StatusUnauthorized, "more than 5 minutes"},
		{"from the future: 6 minutes ahead", func(r *http.Request) { chattest.Sign(r, testSigningSecret, time.Now().Add(6*time.Minute)) }, http.StatusUnauthorized, "more than 5 minutes"},
		{"body changed after signing", func(r *http.Request) {
			chattest.Sign(r, testSigningSecret, time.Now())
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "ks+apps", "ks+infra", 1)))
		}, http.StatusUnauthorized, "signature does not match"},
		{"timestamp changed after signing", func(r *http.Request) {
			chattest.Sign(r, testSigningSecret, time.Now())
			r.Header.Set("X-Slack-Request-Timestamp", "1")
		}, http.StatusUnauthorized, "more than 5 minutes"},
		{"signature without v0= prefix", func(r *http.Request) {
			chattest.Sign(r, testSigningSecret, time.Now())
			r.Header.Set("X-Slack-Signature", strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		}, http.StatusUnauthorized, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			tt.sign(r)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.status, w.Body.String())
			}
			if tt.status == http.StatusOK && w.Body.String() != body {
				t.Errorf("next handler got body %q, want %q", w.Body.String(), body)
			}
			if !strings.Contains(w.Body.String(), tt.reason) {
				t.Errorf("answer %q does not say %q", w.Body.String(), tt.reason)
			}
			if strings.Contains(w.Body.String(), testSigningSecret) {
				t.Error("the answer holds the signing secret")
			}
		})
	}
}

func TestVerifyRefusesAnEmptySecret(t *testing.T) {
	if _, err := Verify(""); err == nil {
		t.Fatal("Verify(\"\") returned no error")
	}
}

// TestSignMatchesSlacksWorkedExample checks the tests' signer against the
// worked example of docs.slack.dev, "Verifying requests from Slack", so
// that the signatures above are Slack's, not an echo of Verify.
func TestSignMatchesSlacksWorkedExample(t *testing.T) {
	const (
		secret = "8f742231b10e8888abcd99yyyzzz85a5"
		body   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
		want   = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	)
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	chattest.Sign(r, secret, time.Unix(1531420618, 0))
	if got := r.Header.Get("X-Slack-Signature"); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	// The example is years old: Verify refuses it as stale, not as forged.
	mw, _ := Verify(secret)
	w := httptest.NewRecorder()
	mw(echo).ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "more than 5 minutes") {
		t.Errorf("the 2018 example: %d %q, want 401 for its timestamp", w.Code, w.Body.String())
	}
}
