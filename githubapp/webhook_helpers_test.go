package githubapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// recordingDispatcher is a Dispatcher that remembers its calls; fail makes
// every call return an error (as a full queue would).
type recordingDispatcher struct {
	mu      sync.Mutex
	fail    bool
	diffs   []DiffRequest
	cancels []string // "deliveryID repo#pr"
	cmds    []CommentCommand
}

func (d *recordingDispatcher) DiffPR(_ context.Context, req DiffRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("queue is full")
	}
	d.diffs = append(d.diffs, req)
	return nil
}

func (d *recordingDispatcher) CancelPR(_ context.Context, deliveryID, repo string, pr int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("queue is full")
	}
	d.cancels = append(d.cancels, deliveryID+" "+repo+"#"+strconv.Itoa(pr))
	return nil
}

func (d *recordingDispatcher) Comment(_ context.Context, cmd CommentCommand) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("queue is full")
	}
	d.cmds = append(d.cmds, cmd)
	return nil
}

func (d *recordingDispatcher) calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.diffs) + len(d.cancels) + len(d.cmds)
}

// payload reads testdata/github/webhooks/NAME.json and applies edits: each
// key is a dotted path into the JSON ("pull_request.head.repo.id"), each
// value replaces what is there (objects on the way are created).
func payload(t *testing.T, name string, edits map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "github", "webhooks", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for path, v := range edits {
		keys := strings.Split(path, ".")
		m := doc
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver sends body as a signed delivery of event to h and returns the
// status code.
func deliver(t *testing.T, h http.Handler, secret []byte, event string, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", "d-1")
	req.Header.Set("X-Hub-Signature-256", sign(secret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}
