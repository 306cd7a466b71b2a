package chattest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Sign signs r as Slack does (docs.slack.dev, "Verifying requests from
// Slack"): X-Slack-Request-Timestamp is at (Unix seconds) and
// X-Slack-Signature is "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp +
// ":" + body)). The body is read and put back.
func Sign(r *http.Request, secret string, at time.Time) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}
