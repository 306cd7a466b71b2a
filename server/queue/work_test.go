package queue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store"
	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestWork(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a newer push cancels the running diff and only the newer one is published", func(t *testing.T) { testSupersede(t, b) })
			t.Run("a superseded diff that finishes anyway does not publish", func(t *testing.T) { testSupersededFinishDoesNotPublish(t, b) })
			t.Run("a transient failure is retried and then succeeds", func(t *testing.T) { testTransientRetry(t, b) })
			t.Run("a permanent failure is not retried", func(t *testing.T) { testPermanentNoRetry(t, b) })
			t.Run("a job that runs twice leaves one report and one published comment", func(t *testing.T) { testRunTwiceIdempotent(t, b) })
		})
	}
}

func testSupersede(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	aStarted, aEnded := make(chan struct{}), make(chan error, 1)
	runner := &fakeRunner{run: func(ctx context.Context, job PRJob) (Result, error) {
		if job.HeadSHA != "aaa" {
			return okResult(job), nil
		}
		close(aStarted)
		<-ctx.Done() // a long diff, interrupted by the cancellation
		aEnded <- ctx.Err()
		return Result{}, ctx.Err()
	}}
	pub := &fakePublisher{}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: pub}, true)
	a, err := q.EnqueuePRDiff(t.Context(), prArgs(7, "aaa", "push-a"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-aStarted:
	case <-time.After(30 * time.Second):
		t.Fatal("diff of A never started")
	}
	bRes, err := q.EnqueuePRDiff(t.Context(), prArgs(7, "bbb", "push-b"))
	if err != nil {
		t.Fatal(err)
	}
	if bRes.Superseded != a.JobID {
		t.Errorf("enqueue of B superseded job %d, want A's job %d", bRes.Superseded, a.JobID)
	}
	select {
	case err := <-aEnded:
		if err == nil {
			t.Error("A's context ended without an error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("A's context was never cancelled")
	}
	waitFor(t, 30*time.Second, "B completed and A cancelled", func() (bool, error) {
		sa, err := q.JobState(t.Context(), a.JobID)
		if err != nil {
			return false, err
		}
		sb, err := q.JobState(t.Context(), bRes.JobID)
		return sa == "cancelled" && sb == "completed", err
	})
	_, _, published := pub.snapshot()
	if diff := cmp.Diff([]string{"bbb"}, published); diff != "" {
		t.Errorf("published SHAs (-want +got):\n%s", diff)
	}
	reps, err := st.Reports(t.Context(), "acme/infra", 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].HeadSHA != "bbb" {
		t.Errorf("reports = %+v, want only B's", reps)
	}
}

func testSupersededFinishDoesNotPublish(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	a, err := q.EnqueuePRDiff(t.Context(), prArgs(11, "aaa", "push-a"))
	if err != nil {
		t.Fatal(err)
	}
	// A's diff ignores cancellation and finishes after B was pushed.
	runner := &fakeRunner{run: func(ctx context.Context, job PRJob) (Result, error) {
		if _, err := q.EnqueuePRDiff(ctx, prArgs(11, "bbb", "push-b")); err != nil {
			return Result{}, err
		}
		return okResult(job), nil
	}}
	pub := &fakePublisher{}
	w := &diffWorker{store: st, h: Handlers{Runner: runner, Publisher: pub}, log: testLogger(t), clusters: NewClusterLimiter(1)}
	err = w.Work(t.Context(), &river.Job[PRDiffArgs]{JobRow: &rivertype.JobRow{ID: a.JobID, Attempt: 1}, Args: prArgs(11, "aaa", "push-a")})
	var cancel *rivertype.JobCancelError
	if !errors.As(err, &cancel) || !errors.Is(err, ErrSuperseded) {
		t.Errorf("Work error = %v, want a river cancellation for ErrSuperseded", err)
	}
	creates, updates, _ := pub.snapshot()
	reports, err := st.CountReports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 0}, []int{creates + updates, reports}); diff != "" {
		t.Errorf("publishes, reports (-want +got):\n%s", diff)
	}
}

func testTransientRetry(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	var calls atomic.Int32
	runner := &fakeRunner{run: func(_ context.Context, job PRJob) (Result, error) {
		if calls.Add(1) == 1 {
			return Result{}, errors.New("cluster prod: connection refused")
		}
		return okResult(job), nil
	}}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: &fakePublisher{}}, true)
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(8, "ccc", "d-8"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the retried job to complete", func() (bool, error) {
		s, err := q.JobState(t.Context(), res.JobID)
		return s == "completed", err
	})
	row, err := q.jobRow(t.Context(), res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{2, 1}, []int{row.Attempt, len(row.Errors)}); diff != "" {
		t.Errorf("attempts, recorded errors (-want +got):\n%s", diff)
	}
}

func testPermanentNoRetry(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	var calls atomic.Int32
	runner := &fakeRunner{run: func(context.Context, PRJob) (Result, error) {
		calls.Add(1)
		return Result{}, Permanent(errors.New("kustomization.yaml: line 3: invalid"))
	}}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: &fakePublisher{}}, true)
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(9, "ddd", "d-9"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the failed job to be cancelled", func() (bool, error) {
		s, err := q.JobState(t.Context(), res.JobID)
		return s == "cancelled", err
	})
	time.Sleep(1500 * time.Millisecond) // a retry would have come by now
	if n := calls.Load(); n != 1 {
		t.Errorf("runner called %d times, want 1", n)
	}
}

func testRunTwiceIdempotent(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	pub := &fakePublisher{}
	w := &diffWorker{store: st, h: Handlers{Runner: &fakeRunner{}, Publisher: pub}, log: testLogger(t), clusters: NewClusterLimiter(1)}
	job := &river.Job[PRDiffArgs]{JobRow: &rivertype.JobRow{ID: 42, Attempt: 1}, Args: prArgs(10, "eee", "d-10")}
	for attempt := 1; attempt <= 2; attempt++ {
		job.Attempt = attempt
		if err := w.Work(t.Context(), job); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	reports, err := st.CountReports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	refs, err := st.CountPublishedRefs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	creates, updates, _ := pub.snapshot()
	if diff := cmp.Diff([]int{1, 1, 1, 1}, []int{reports, refs, creates, updates}); diff != "" {
		t.Errorf("reports, refs, comment creates, comment updates (-want +got):\n%s", diff)
	}
	ref, err := st.PublishedRef(t.Context(), store.RefPRComment, "acme/infra#10")
	if err != nil {
		t.Fatal(err)
	}
	if ref.ReportID == 0 {
		t.Error("published ref does not point at the report")
	}
}

func TestClusterLimiterBoundsConcurrencyPerCluster(t *testing.T) {
	l := NewClusterLimiter(2)
	ctx := t.Context()
	r1, _ := l.Acquire(ctx, "prod")
	r2, _ := l.Acquire(ctx, "prod")
	other, err := l.Acquire(ctx, "staging")
	if err != nil {
		t.Fatalf("another cluster is independent: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short, "prod"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third holder on prod: error = %v, want to wait until the deadline", err)
	}
	r1()
	r1() // releasing twice frees one slot only
	r3, err := l.Acquire(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := l.Acquire(short2, "prod"); err == nil {
		t.Error("a double release freed two slots")
	}
	r2()
	r3()
	other()
}
