package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func newTestServer(t *testing.T, opts Options) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewServer(New(opts).Handler())
	t.Cleanup(ts.Close)
	return ts, &logs
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthzIsStatic(t *testing.T) {
	ts, _ := newTestServer(t, Options{Checks: []Check{{Name: "broken", Run: func(context.Context) error { return errors.New("down") }}}})
	if code, body := get(t, ts.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz = %d %q", code, body)
	}
}

func TestReadyzListsEveryCheck(t *testing.T) {
	ok := Check{Name: "cluster/a", Run: func(context.Context) error { return nil }}
	bad := Check{Name: "cluster/b", Run: func(context.Context) error { return errors.New("connection refused") }}

	t.Run("all checks pass gives 200", func(t *testing.T) {
		ts, _ := newTestServer(t, Options{Checks: []Check{ok}})
		code, body := get(t, ts.URL+"/readyz")
		if code != 200 {
			t.Fatalf("code %d: %s", code, body)
		}
	})
	t.Run("one failing check gives 503 and names it", func(t *testing.T) {
		ts, _ := newTestServer(t, Options{Checks: []Check{ok, bad}})
		code, body := get(t, ts.URL+"/readyz")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("code %d", code)
		}
		var rep ReadyReport
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatal(err)
		}
		want := ReadyReport{Ready: false, Checks: []CheckResult{
			{Name: "cluster/a", OK: true},
			{Name: "cluster/b", OK: false, Error: "connection refused"},
		}}
		if diff := cmp.Diff(want, rep, cmpopts.IgnoreFields(CheckResult{}, "TookMS")); diff != "" {
			t.Errorf("readyz body (-want +got):\n%s", diff)
		}
	})
}

func TestReadyzExcludesChecks(t *testing.T) {
	ran := map[string]bool{}
	var mu sync.Mutex
	check := func(name string, err error) Check {
		return Check{Name: name, Run: func(context.Context) error {
			mu.Lock()
			ran[name] = true
			mu.Unlock()
			return err
		}}
	}
	ts, _ := newTestServer(t, Options{Checks: []Check{
		check("store", nil), check("cluster/a", nil), check("cluster/b", errors.New("down")),
	}})
	code, body := get(t, ts.URL+"/readyz?exclude=cluster/")
	if code != 200 || !strings.Contains(body, `"excluded": true`) || ran["cluster/b"] || !ran["store"] {
		t.Errorf("exclude=cluster/: %d ran=%v\n%s", code, ran, body)
	}
	if code, _ := get(t, ts.URL+"/readyz?exclude=cluster/a"); code != http.StatusServiceUnavailable {
		t.Errorf("excluding only cluster/a still must fail on cluster/b, got %d", code)
	}
}

func TestUnconfiguredIntegrationsAnswer503(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	for _, path := range []string{"/webhooks/github", "/slack/commands", "/slack/interactions"} {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "not configured") {
			t.Errorf("%s = %d %s", path, resp.StatusCode, b)
		}
	}
}

func TestPanicBecomes500AndServerLives(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	ts, logs := newTestServer(t, Options{GitHubWebhook: boom})
	resp, err := http.Post(ts.URL+"/webhooks/github", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), `"msg":"panic in handler"`) {
		t.Errorf("panic not logged: %s", logs)
	}
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("server did not survive the panic")
	}
}

func TestBodyLimit(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, "too large")
				return
			}
		}
		w.WriteHeader(204)
	})
	ts, _ := newTestServer(t, Options{GitHubWebhook: echo, MaxBodyBytes: 10})
	for body, want := range map[string]int{"short": 204, strings.Repeat("x", 11): 413} {
		resp, err := http.Post(ts.URL+"/webhooks/github", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("body of %d bytes: status %d, want %d", len(body), resp.StatusCode, want)
		}
	}
}

func TestMetricsAndAccessLog(t *testing.T) {
	ts, logs := newTestServer(t, Options{})
	get(t, ts.URL+"/healthz")
	get(t, ts.URL+"/no/such/page/123")
	_, body := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`fluxdiff_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"} 1`,
		`fluxdiff_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	var sawProbe, sawMissing bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		switch rec["path"] {
		case "/healthz":
			sawProbe = rec["level"] == "DEBUG"
		case "/no/such/page/123":
			sawMissing = rec["level"] == "INFO" && rec["status"] == float64(404) && rec["request_id"] != ""
		}
	}
	if !sawProbe || !sawMissing {
		t.Errorf("access log: probe at debug %v, 404 at info %v\n%s", sawProbe, sawMissing, logs)
	}
}
