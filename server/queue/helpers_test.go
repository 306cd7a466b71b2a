package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// fakeRunner diffs by calling run, or returns a small report.
type fakeRunner struct {
	run func(ctx context.Context, job PRJob) (Result, error)

	mu   sync.Mutex
	runs map[string]int // per "repo#pr@sha"
}

func (r *fakeRunner) RunPRDiff(ctx context.Context, job PRJob) (Result, error) {
	r.mu.Lock()
	if r.runs == nil {
		r.runs = map[string]int{}
	}
	r.runs[fmt.Sprintf("%s#%d@%s", job.Repo, job.PR, job.HeadSHA)]++
	r.mu.Unlock()
	if r.run != nil {
		return r.run(ctx, job)
	}
	return okResult(job), nil
}

func (r *fakeRunner) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.runs))
	for k, v := range r.runs {
		out[k] = v
	}
	return out
}

func okResult(job PRJob) Result {
	body, _ := json.Marshal(map[string]any{"sha": job.HeadSHA, "changes": 1})
	return Result{MergeSHA: "merge-" + job.HeadSHA, Clusters: []string{"prod"}, Report: body}
}

// fakePublisher keeps one sticky comment per pull request, the way the
// GitHub publisher will: update the stored one, create only when none.
type fakePublisher struct {
	mu        sync.Mutex
	creates   int
	updates   int
	published []string // head SHAs, in publishing order
}

func (p *fakePublisher) Publish(ctx context.Context, rep store.Report, refs Refs) error {
	key := fmt.Sprintf("%s#%d", rep.Repo, rep.PR)
	ref, err := refs.PublishedRef(ctx, store.RefPRComment, key)
	created := errors.Is(err, store.ErrNotFound)
	if err != nil && !created {
		return err
	}
	if created {
		ref = store.PublishedRef{Kind: store.RefPRComment, Key: key, ExternalID: fmt.Sprintf("comment-%d", rep.ID)}
	}
	ref.ReportID = rep.ID
	if err := refs.SavePublishedRef(ctx, ref); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if created {
		p.creates++
	} else {
		p.updates++
	}
	p.published = append(p.published, rep.HeadSHA)
	return nil
}

func (p *fakePublisher) snapshot() (creates, updates int, published []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creates, p.updates, append([]string(nil), p.published...)
}

// testLogger writes warnings and errors to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testConfig is a quick-polling queue configuration for tests.
func testConfig(t testing.TB) Config {
	return Config{Logger: testLogger(t), FetchPollInterval: 50 * time.Millisecond, Workers: 4}
}

// openStore opens the store at url for t, closed when t ends.
func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// newQueue builds a queue on st; started ones are stopped when t ends.
func newQueue(t testing.TB, st *store.Store, cfg Config, h Handlers, start bool) *Queue {
	t.Helper()
	q, err := New(t.Context(), st, cfg, h)
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	if start {
		if err := q.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopQueue(t, q) })
	}
	return q
}

// stopQueue stops q, giving running jobs 20s; t's own context is already
// cancelled when cleanups run.
func stopQueue(t testing.TB, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countRiverJobs counts river's diff and command jobs (not the periodic
// purge), optionally in one state.
func countRiverJobs(t testing.TB, st *store.Store, state string) int {
	t.Helper()
	q, args := `SELECT COUNT(*) FROM river_job WHERE kind <> 'purge_delivery_keys'`, []any{}
	if state != "" {
		q, args = q+` AND state = $1`, append(args, state)
	}
	var n int
	var err error
	if db := st.SQLDB(); db != nil {
		err = db.QueryRowContext(t.Context(), q, args...).Scan(&n)
	} else {
		err = st.PgxPool().QueryRow(t.Context(), q, args...).Scan(&n)
	}
	if err != nil {
		t.Fatalf("count river jobs: %v", err)
	}
	return n
}

func prArgs(pr int, sha, delivery string) PRDiffArgs {
	return PRDiffArgs{InstallationID: 1, Repo: "acme/infra", PR: pr, HeadSHA: sha, DeliveryID: delivery, Trigger: "pull_request.synchronize"}
}

// logBuffer collects log lines for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// capturingConfig is testConfig with info logs also kept in the returned
// buffer.
func capturingConfig(t testing.TB) (Config, *logBuffer) {
	cfg, logs := testConfig(t), &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return cfg, logs
}
