package queue

import (
	"context"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestStop(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a running job that finishes before the deadline completes", func(t *testing.T) { testStopWaits(t, b) })
			t.Run("a job still running at the deadline runs again after restart", func(t *testing.T) { testStopDeadline(t, b) })
		})
	}
}

func testStopWaits(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	started := make(chan struct{})
	runner := &fakeRunner{run: func(_ context.Context, job PRJob) (Result, error) {
		close(started)
		time.Sleep(500 * time.Millisecond)
		return okResult(job), nil
	}}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: &fakePublisher{}}, false)
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(20, "aaa", "d-20"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if s, err := q.JobState(t.Context(), res.JobID); err != nil || s != "completed" {
		t.Errorf("job state after a graceful stop = %q, %v; want completed", s, err)
	}
}

func testStopDeadline(t *testing.T, b storetest.Backend) {
	url := b.URL(t)
	st := openStore(t, url)
	started := make(chan struct{})
	blocking := &fakeRunner{run: func(ctx context.Context, _ PRJob) (Result, error) {
		close(started)
		<-ctx.Done()
		return Result{}, ctx.Err()
	}}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: blocking, Publisher: &fakePublisher{}}, false)
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(21, "aaa", "d-21"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if s, err := q.JobState(t.Context(), res.JobID); err != nil || (s != "available" && s != "retryable" && s != "scheduled") {
		t.Fatalf("job state after the deadline = %q, %v; want it waiting to run again", s, err)
	}

	// "Restart": a new store and queue on the same database.
	st2 := openStore(t, url)
	pub := &fakePublisher{}
	q2 := newQueue(t, st2, testConfig(t), Handlers{Runner: &fakeRunner{}, Publisher: pub}, true)
	waitFor(t, 30*time.Second, "the job to complete after restart", func() (bool, error) {
		s, err := q2.JobState(t.Context(), res.JobID)
		return s == "completed", err
	})
	if _, _, published := pub.snapshot(); len(published) != 1 {
		t.Errorf("published %v after restart, want one", published)
	}
}
