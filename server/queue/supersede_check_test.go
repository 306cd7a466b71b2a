package queue

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

// fakeSuperseded records the diffs it is told were superseded, as
// "repo#pr@old->new".
type fakeSuperseded struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeSuperseded) DiffSuperseded(ctx context.Context, a PRDiffArgs, newerSHA string, refs Refs) error {
	if ctx.Err() != nil || refs == nil {
		return errors.New("called without a live context or refs")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, a.Repo+"#"+itoa(a.PR)+"@"+a.HeadSHA+"->"+newerSHA)
	return nil
}

func (f *fakeSuperseded) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestSupersededDiffsAreHandedOn(t *testing.T) {
	t.Run("a diff stopped by another commit is handed on, one stopped by its own commit again is not", testSupersededByOrder)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a running diff cancelled by a push hands itself on", func(t *testing.T) { testRunningSuperseded(t, b) })
			t.Run("a diff waiting to retry is handed on by the newer push's job", func(t *testing.T) { testWaitingSuperseded(t, b) })
		})
	}
}

// testSupersededByOrder pushes A, B, then A again, and works B's job and
// A's first one after that: B's is superseded by A, A's first by A again.
func testSupersededByOrder(t *testing.T) {
	st := openStore(t, storetest.Backends()[0].URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	var jobs []int64
	for i, sha := range []string{"aaa", "bbb", "aaa"} {
		res, err := q.EnqueuePRDiff(t.Context(), prArgs(50, sha, "push-"+itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res.JobID)
	}
	sup := &fakeSuperseded{}
	w := &diffWorker{store: st, h: Handlers{Runner: &fakeRunner{}, Publisher: &fakePublisher{}, Superseded: sup}, log: testLogger(t), clusters: NewClusterLimiter(1)}
	for _, i := range []int{1, 0} {
		args := prArgs(50, []string{"aaa", "bbb"}[i], "")
		err := w.Work(t.Context(), &river.Job[PRDiffArgs]{JobRow: &rivertype.JobRow{ID: jobs[i], Attempt: 1}, Args: args})
		if !errors.Is(err, ErrSuperseded) {
			t.Fatalf("job %d: %v, want superseded", jobs[i], err)
		}
	}
	if d := cmp.Diff([]string{"acme/infra#50@bbb->aaa"}, sup.snapshot()); d != "" {
		t.Errorf("superseded diffs handed on (-want +got):\n%s", d)
	}
}

// testRunningSuperseded pushes B while A's diff runs.
func testRunningSuperseded(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	started := make(chan struct{})
	runner := &fakeRunner{run: func(ctx context.Context, job PRJob) (Result, error) {
		if job.HeadSHA == "aaa" {
			close(started)
			<-ctx.Done()
			return Result{}, ctx.Err()
		}
		return okResult(job), nil
	}}
	sup := &fakeSuperseded{}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: &fakePublisher{}, Superseded: sup}, true)
	a, err := q.EnqueuePRDiff(t.Context(), prArgs(51, "aaa", "push-a"))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	bRes, err := q.EnqueuePRDiff(t.Context(), prArgs(51, "bbb", "push-b"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "A cancelled and B completed", func() (bool, error) {
		sa, err := q.JobState(t.Context(), a.JobID)
		if err != nil {
			return false, err
		}
		sb, err := q.JobState(t.Context(), bRes.JobID)
		return sa == "cancelled" && sb == "completed", err
	})
	if d := cmp.Diff([]string{"acme/infra#51@aaa->bbb"}, sup.snapshot()); d != "" {
		t.Errorf("superseded diffs handed on (-want +got):\n%s", d)
	}
}

// testWaitingSuperseded pushes B while A's diff waits to be retried after
// a failure: A's job is cancelled without running again, so B's job hands
// A on.
func testWaitingSuperseded(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	runner := &fakeRunner{run: func(ctx context.Context, job PRJob) (Result, error) {
		if job.HeadSHA == "aaa" {
			return Result{}, errors.New("github answered 502")
		}
		return okResult(job), nil
	}}
	sup := &fakeSuperseded{}
	q := newQueue(t, st, testConfig(t), Handlers{Runner: runner, Publisher: &fakePublisher{}, Superseded: sup}, true)
	a, err := q.EnqueuePRDiff(t.Context(), prArgs(52, "aaa", "push-a"))
	if err != nil {
		t.Fatal(err)
	}
	// River makes a retry due within its scheduler's interval available at
	// once, so A may fail twice before it is seen waiting.
	waitFor(t, 30*time.Second, "A to wait for its retry", func() (bool, error) {
		s, err := q.JobState(t.Context(), a.JobID)
		return s == "retryable", err
	})
	bRes, err := q.EnqueuePRDiff(t.Context(), prArgs(52, "bbb", "push-b"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "B completed", func() (bool, error) {
		s, err := q.JobState(t.Context(), bRes.JobID)
		return s == "completed", err
	})
	row, err := q.jobRow(t.Context(), bRes.JobID)
	if err != nil {
		t.Fatal(err)
	}
	var args PRDiffArgs
	if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
		t.Fatal(err)
	}
	sa, err := q.JobState(t.Context(), a.JobID)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{sa, args.Supersedes, sup.snapshot()}
	want := []any{"cancelled", "aaa", []string{"acme/infra#52@aaa->bbb"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("A's state, B's Supersedes, superseded diffs handed on (-want +got):\n%s", d)
	}
}
