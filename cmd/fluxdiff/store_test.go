package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

func TestTheQueueStopsOnTheSignalWhileTheStoreStaysOpen(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "fluxdiff.db")
	cfg, err := config.Load("", func(k string) (string, bool) {
		v, ok := map[string]string{"FLUXDIFF_STORE_URL": url, "FLUXDIFF_SHUTDOWN_TIMEOUT": "5s"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	signal, cancel := context.WithCancel(t.Context())
	dur, err := openDurable(signal, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(*store.Store) queue.Handlers { return queue.Handlers{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // SIGTERM
	select {
	case <-dur.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the queue did not stop on the signal")
	}
	// The HTTP server may still be draining: its enqueues are kept for the
	// next start, not worked.
	res, err := dur.queue.EnqueuePRDiff(t.Context(), queue.PRDiffArgs{InstallationID: 1, Repo: "acme/infra", PR: 1, HeadSHA: "aaa"})
	if err != nil {
		t.Fatalf("enqueue while draining: %v", err)
	}
	time.Sleep(2 * time.Second) // the queue polls every second
	if s, err := dur.queue.JobState(t.Context(), res.JobID); err != nil || s != "available" {
		t.Errorf("job enqueued after the signal is %q, %v; want available, kept for the next start", s, err)
	}
	dur.close()
}

// deadlineRunner records the deadline of the first diff job it runs.
type deadlineRunner struct{ got chan time.Duration }

func (r deadlineRunner) RunPRDiff(ctx context.Context, _ queue.PRJob) (queue.Result, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Time{}
	}
	select {
	case r.got <- time.Until(dl):
	default:
	}
	return queue.Result{}, queue.Permanent(context.Canceled)
}

func TestTheQueueGivesJobsTheConfiguredTimeout(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "fluxdiff.db")
	cfg, err := config.Load("", func(k string) (string, bool) {
		v, ok := map[string]string{"FLUXDIFF_STORE_URL": url, "FLUXDIFF_QUEUE_JOB_TIMEOUT": "7m"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	r := deadlineRunner{got: make(chan time.Duration, 1)}
	dur, err := openDurable(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(*store.Store) queue.Handlers { return queue.Handlers{Runner: r, Publisher: nopPublisher{}} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dur.close()
	if _, err := dur.queue.EnqueuePRDiff(t.Context(), queue.PRDiffArgs{InstallationID: 1, Repo: "acme/infra", PR: 1, HeadSHA: "aaa"}); err != nil {
		t.Fatal(err)
	}
	select {
	case left := <-r.got:
		if left <= 6*time.Minute || left > 7*time.Minute {
			t.Errorf("the job had %s left when it started, want just under queue.jobTimeout (7m)", left)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the job did not run")
	}
}

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, store.Report, queue.Refs) error { return nil }
