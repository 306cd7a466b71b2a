package servertest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// Payload loads a real webhook payload (testdata/github/webhooks/FILE) and
// points it at the fixture repository, pull request number (its head at
// head) and installation.
func (f *Fleet) Payload(file string, number int, head string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(ModuleRoot(), "testdata", "github", "webhooks", file))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m["installation"] = map[string]any{"id": f.GitHub.InstallationID()}
	pointAt(m["repository"])
	if p, ok := m["pull_request"].(map[string]any); ok {
		m["number"], p["number"], p["draft"] = number, number, false
		p["head"].(map[string]any)["sha"] = head
		for _, side := range []string{"head", "base"} {
			pointAt(p[side].(map[string]any)["repo"])
		}
	}
	if issue, ok := m["issue"].(map[string]any); ok {
		issue["number"] = number
		issue["pull_request"] = map[string]any{"url": f.GitHub.URL() + "repos/" + Repo + "/pulls/" + fmt.Sprint(number)}
	}
	return m, nil
}

func pointAt(repo any) {
	r, ok := repo.(map[string]any)
	if !ok {
		return
	}
	r["full_name"], r["name"] = Repo, Name
	if o, ok := r["owner"].(map[string]any); ok {
		o["login"] = Owner
	}
}

// Send posts a webhook delivery to url, signed with secret as GitHub signs
// (X-Hub-Signature-256: HMAC-SHA256 of the body); an empty secret sends it
// unsigned. It returns the status code.
func Send(ctx context.Context, url, secret, event, delivery string, payload any) (int, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
