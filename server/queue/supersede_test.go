package queue

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestHeadChanges(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a SHA pushed again while its superseded job still runs is diffed and published", func(t *testing.T) { testForcePushBack(t, b) })
			t.Run("diffs finishing in reverse order of the pushes publish only the head's", func(t *testing.T) { testOutOfOrder(t, b) })
			t.Run("a second request for the running head adds nothing", func(t *testing.T) { testRunningHeadReused(t, b) })
		})
	}
}

// testForcePushBack pushes A, B, then A again while A's first job, being
// cancelled, has not returned yet.
func testForcePushBack(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	aStarted, releaseA := make(chan struct{}), make(chan struct{})
	var aRuns atomic.Int32
	runner := &fakeRunner{run: func(ctx context.Context, job PRJob) (Result, error) {
		switch {
		case job.HeadSHA == "aaa" && aRuns.Add(1) == 1:
			close(aStarted)
			<-ctx.Done()
			<-releaseA // still running when A is pushed again
			return Result{}, ctx.Err()
		case job.HeadSHA == "bbb":
			<-ctx.Done()
			return Result{}, ctx.Err()
		}
		return okResult(job), nil
	}}
	pub := &fakePublisher{}
	cfg, logs := capturingConfig(t)
	q := newQueue(t, st, cfg, Handlers{Runner: runner, Publisher: pub}, true)
	a1, err := q.EnqueuePRDiff(t.Context(), prArgs(40, "aaa", "push-a"))
	if err != nil {
		t.Fatal(err)
	}
	<-aStarted
	bRes, err := q.EnqueuePRDiff(t.Context(), prArgs(40, "bbb", "push-b"))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := q.EnqueuePRDiff(t.Context(), prArgs(40, "aaa", "push-a-again"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := q.JobState(t.Context(), a1.JobID); err != nil || s != "running" {
		t.Fatalf("A's first job is %q, %v; the test needs it still running", s, err)
	}
	if a2.Duplicate || a2.JobID == a1.JobID || a2.Superseded != bRes.JobID {
		t.Errorf("A pushed again: %+v; want a new job superseding B's %d (A's first is %d)", a2, bRes.JobID, a1.JobID)
	}
	close(releaseA)
	var states []string
	waitFor(t, 30*time.Second, "A's new job to complete and the other two to end", func() (bool, error) {
		states = nil
		for _, id := range []int64{a1.JobID, bRes.JobID, a2.JobID} {
			s, err := q.JobState(t.Context(), id)
			if err != nil {
				return false, err
			}
			states = append(states, s)
		}
		return states[0] != "running" && states[1] != "running" && states[2] == "completed", nil
	})
	_, _, published := pub.snapshot()
	h, err := st.Head(t.Context(), "acme/infra", 40)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{states, published, h.SHA, h.PublishedJobID}
	want := []any{[]string{"cancelled", "cancelled", "completed"}, []string{"aaa"}, "aaa", a2.JobID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states of A's first job, B's and A's new one, published SHAs, head, job published (-want +got):\n%s", diff)
	}
	if strings.Contains(logs.String(), "will retry") {
		t.Errorf("a superseded diff was logged as retrying:\n%s", logs)
	}
}

// testOutOfOrder pushes A, B and A again, then lets the three jobs finish
// newest first: only A's second job may publish.
func testOutOfOrder(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	var jobs []int64
	for _, sha := range []string{"aaa", "bbb", "aaa"} {
		res, err := q.EnqueuePRDiff(t.Context(), prArgs(41, sha, "push-"+sha+string(rune('0'+len(jobs)))))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res.JobID)
	}
	pub := &fakePublisher{}
	w := &diffWorker{store: st, h: Handlers{Runner: &fakeRunner{}, Publisher: pub}, log: testLogger(t), clusters: NewClusterLimiter(1)}
	var outcomes []string
	for i := len(jobs) - 1; i >= 0; i-- {
		args := prArgs(41, []string{"aaa", "bbb", "aaa"}[i], "")
		err := w.Work(t.Context(), &river.Job[PRDiffArgs]{JobRow: &rivertype.JobRow{ID: jobs[i], Attempt: 1}, Args: args})
		var cancel *rivertype.JobCancelError
		switch {
		case err == nil:
			outcomes = append(outcomes, "published")
		case errors.As(err, &cancel) && errors.Is(err, ErrSuperseded):
			outcomes = append(outcomes, "superseded")
		default:
			t.Fatalf("job %d: %v", jobs[i], err)
		}
	}
	_, _, published := pub.snapshot()
	if diff := cmp.Diff([]any{[]string{"published", "superseded", "superseded"}, []string{"aaa"}},
		[]any{outcomes, published}); diff != "" {
		t.Errorf("outcomes of A again, B, A; published SHAs (-want +got):\n%s", diff)
	}
}

func testRunningHeadReused(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	started, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	runner := &fakeRunner{run: func(_ context.Context, job PRJob) (Result, error) {
		if runs.Add(1) == 1 {
			close(started)
			<-release
		}
		return okResult(job), nil
	}}
	pub := &fakePublisher{}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: pub}, true)
	first, err := q.EnqueuePRDiff(t.Context(), prArgs(42, "aaa", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	second, err := q.EnqueuePRDiff(t.Context(), prArgs(42, "aaa", "d-2"))
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if diff := cmp.Diff(Enqueued{JobID: first.JobID, Duplicate: true}, second); diff != "" {
		t.Errorf("second request while the head's job runs (-want +got):\n%s", diff)
	}
	waitFor(t, 30*time.Second, "the job to complete", func() (bool, error) {
		s, err := q.JobState(t.Context(), first.JobID)
		return s == "completed", err
	})
	// Once finished, the same SHA may be diffed again (a re-run).
	third, err := q.EnqueuePRDiff(t.Context(), prArgs(42, "aaa", "d-3"))
	if err != nil {
		t.Fatal(err)
	}
	if third.Duplicate || third.JobID == first.JobID || third.Superseded != 0 {
		t.Errorf("request after the job finished: %+v, want a new job superseding nothing", third)
	}
}
