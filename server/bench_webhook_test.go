package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/servertest"
	"github.com/fluxdiff/fluxdiff/server/store"
	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

// loadEnv carries the load generator's settings (JSON) to the helper
// process, which is this test binary run again.
const loadEnv = "FLUXDIFF_LOADGEN"

// loadResultPrefix starts the line on which the helper process prints its
// loadResult.
const loadResultPrefix = "LOADGEN-RESULT "

// BenchmarkWebhookUnderLoad sends signed pull_request deliveries from a
// separate process (this test binary run again as TestWebhookLoadGenerator)
// over loopback to fluxdiff's HTTP server as `fluxdiff serve` builds it
// (middleware, webhook verification, de-duplication, the queue on SQLite,
// the default store, and on PostgreSQL, each a sub-benchmark), at
// 500 per second for 20 seconds with at most 256 in flight, each delivery a
// different pull request. It reports the acknowledgement latency the
// sender saw (p50, p99, max) and the jobs in the queue against the
// deliveries sent; a delivery that was sent but has no job fails the
// benchmark. The queue's workers are not started: only the webhook path is
// measured.
func BenchmarkWebhookUnderLoad(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) { benchWebhook(b, be.URL(b)) })
	}
}

// benchWebhook is BenchmarkWebhookUnderLoad on the store at storeURL.
func benchWebhook(b *testing.B, storeURL string) {
	for b.Loop() {
		url, st := startWebhookServer(b, storeURL)
		cfg := loadConfig{URL: url, Secret: webhookSecret, Rate: 500, Seconds: 20, MaxInFlight: 256, InstallationID: 42}
		res := runLoadGenerator(b, cfg)
		jobs := countDiffJobs(b, st)
		b.ReportMetric(res.P50, "p50-ms")
		b.ReportMetric(res.P99, "p99-ms")
		b.ReportMetric(res.Max, "max-ms")
		b.ReportMetric(float64(res.Sent), "sent")
		b.ReportMetric(float64(res.Accepted), "acked-202")
		b.ReportMetric(float64(jobs), "jobs-enqueued")
		b.ReportMetric(float64(res.Sent)/res.Elapsed, "sent/s")
		if jobs != res.Sent || res.Accepted != res.Sent {
			b.Errorf("%d deliveries sent, %d acknowledged with 202, %d jobs enqueued: %d lost (errors: %v)",
				res.Sent, res.Accepted, jobs, res.Sent-jobs, res.Errors)
		}
	}
}

// countDiffJobs counts the pull request diff jobs in the queue's table.
func countDiffJobs(b *testing.B, st *store.Store) int {
	const q = "SELECT count(*) FROM river_job WHERE kind = 'pr_diff'"
	var n int
	var err error
	if db := st.SQLDB(); db != nil {
		err = db.QueryRowContext(context.Background(), q).Scan(&n)
	} else {
		err = st.PgxPool().QueryRow(context.Background(), q).Scan(&n)
	}
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// startWebhookServer starts the HTTP server with the GitHub webhook on the
// fresh store at storeURL and a queue that is not started.
func startWebhookServer(b *testing.B, storeURL string) (string, *store.Store) {
	st, err := store.Open(b.Context(), storeURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	log := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	q, err := queue.New(b.Context(), st, queue.Config{Logger: log}, queue.Handlers{})
	if err != nil {
		b.Fatal(err)
	}
	hook := githubapp.NewWebhookHandler(githubapp.WebhookOptions{Secret: []byte(webhookSecret), AppID: 1, Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log})
	ts := httptest.NewServer(server.New(server.Options{Logger: log, GitHubWebhook: hook}).Handler())
	b.Cleanup(ts.Close)
	return ts.URL + "/webhooks/github", st
}

// runLoadGenerator runs the helper process and returns what it measured.
func runLoadGenerator(b *testing.B, cfg loadConfig) loadResult {
	js, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(b.Context(), os.Args[0], "-test.run=^TestWebhookLoadGenerator$", "-test.count=1")
	cmd.Env = append(os.Environ(), loadEnv+"="+string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("load generator: %v\n%s\n%s", err, out, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), loadResultPrefix); ok {
			var res loadResult
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				b.Fatal(err)
			}
			return res
		}
	}
	b.Fatalf("load generator printed no result:\n%s", out)
	return loadResult{}
}

// TestWebhookLoadGenerator is the load generator of
// BenchmarkWebhookUnderLoad when run with FLUXDIFF_LOADGEN set; otherwise
// it is skipped.
func TestWebhookLoadGenerator(t *testing.T) {
	raw := os.Getenv(loadEnv)
	if raw == "" {
		t.Skip("the load generator of BenchmarkWebhookUnderLoad; it runs only as that benchmark's helper process")
	}
	var cfg loadConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	tmpl, err := payloadTemplate(cfg.InstallationID)
	if err != nil {
		t.Fatal(err)
	}
	res := generateLoad(cfg, tmpl)
	js, _ := json.Marshal(res)
	fmt.Println(loadResultPrefix + string(js))
}

// payloadTemplate is a real pull_request.opened delivery marshalled with
// placeholders for the pull request number and head SHA.
func payloadTemplate(installation int64) ([]byte, error) {
	raw, err := os.ReadFile(filepath.Join(servertest.ModuleRoot(), "testdata", "github", "webhooks", "pull_request.opened.1.json"))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["installation"] = map[string]any{"id": installation}
	m["number"] = placeholderNumber
	p := m["pull_request"].(map[string]any)
	p["number"], p["draft"] = placeholderNumber, false
	p["head"].(map[string]any)["sha"] = placeholderSHA
	return json.Marshal(m)
}

const (
	placeholderNumber = 987654321
	placeholderSHA    = "ffffffffffffffffffffffffffffffffffffffff"
)

// delivery returns the body of delivery i (pull request i+1, its own head).
func delivery(tmpl []byte, i int) []byte {
	body := bytes.ReplaceAll(tmpl, []byte(fmt.Sprint(placeholderNumber)), []byte(fmt.Sprint(i+1)))
	return bytes.ReplaceAll(body, []byte(placeholderSHA), []byte(fmt.Sprintf("%040x", i+1)))
}

// elapsedSince is time.Since in milliseconds.
func elapsedSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
