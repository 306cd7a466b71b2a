package chat

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/slack-go/slack"
)

// Verify returns middleware that admits only requests signed by Slack with
// signingSecret (Slack's "v0" HMAC-SHA256 of "v0:<timestamp>:<body>", sent
// in X-Slack-Signature with X-Slack-Request-Timestamp). A missing, malformed
// or wrong signature, or a timestamp more than five minutes from now, is
// answered 401 before the body is parsed; the next handler sees the body
// unchanged. Rules: docs.slack.dev, "Verifying requests from Slack";
// checked by slack-go's SecretsVerifier.
//
// It fails when signingSecret is empty. The body is read whole: put a body
// size limit in front of it.
func Verify(signingSecret string) (func(http.Handler) http.Handler, error) {
	if signingSecret == "" {
		return nil, errors.New("chat: slack signing secret is empty")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "cannot read request body", http.StatusBadRequest)
				return
			}
			if reason := checkSignature(r.Header, body, signingSecret); reason != "" {
				http.Error(w, "slack request verification failed: "+reason, http.StatusUnauthorized)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}, nil
}

// checkSignature returns why h and body are not a valid Slack request, or
// "" when they are. The reasons name the problem, never a secret.
func checkSignature(h http.Header, body []byte, secret string) string {
	sv, err := slack.NewSecretsVerifier(h, secret)
	switch {
	case errors.Is(err, slack.ErrMissingHeaders):
		return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return "timestamp is more than 5 minutes from now"
	case err != nil:
		return "malformed signature or timestamp"
	}
	if _, err := sv.Write(body); err != nil {
		return "cannot hash body"
	}
	if err := sv.Ensure(); err != nil {
		return "signature does not match"
	}
	return ""
}
