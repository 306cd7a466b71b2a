package queue

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestInteractions(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a click Slack sends twice is queued once; a bad click is refused", func(t *testing.T) { testInteractionDedup(t, b) })
			t.Run("a click queued while no worker runs is done by the next process with its payload intact", func(t *testing.T) { testInteractionAfterRestart(t, b) })
			t.Run("a click running at the shutdown deadline runs again; a permanent failure does not", func(t *testing.T) { testInteractionInterrupted(t, b) })
		})
	}
}

// recordingInteractions records the clicks it runs; run, when set, decides
// each result.
type recordingInteractions struct {
	mu  sync.Mutex
	got []InteractionArgs
	run func(ctx context.Context, in InteractionArgs) error
}

func (r *recordingInteractions) RunInteraction(ctx context.Context, in InteractionArgs) error {
	r.mu.Lock()
	r.got = append(r.got, in)
	r.mu.Unlock()
	if r.run != nil {
		return r.run(ctx, in)
	}
	return nil
}

func (r *recordingInteractions) calls() []InteractionArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]InteractionArgs(nil), r.got...)
}

func clickArgs(report int64) InteractionArgs {
	return InteractionArgs{
		Action: "fluxdiff_approve", ReportID: report, TeamID: "T1", UserID: "U1", UserName: "ada",
		ChannelID: "C1", MessageTS: "1700000000.000100", ResponseURL: "https://hooks.slack.test/actions/r",
		Blocks: []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"diff"}}]`),
	}
}

func testInteractionDedup(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	first, err := q.EnqueueInteraction(t.Context(), "slack:trigger:T1:1.2.3", clickArgs(7))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.EnqueueInteraction(t.Context(), "slack:trigger:T1:1.2.3", clickArgs(7))
	if err != nil {
		t.Fatal(err)
	}
	if first.JobID == 0 || !again.Duplicate || again.JobID != 0 {
		t.Errorf("enqueues = %+v then %+v; want a job then a duplicate", first, again)
	}
	if _, err := q.EnqueueInteraction(t.Context(), "", InteractionArgs{Action: "fluxdiff_approve"}); !IsPermanent(err) {
		t.Errorf("a click without report and user: error = %v, want a permanent error", err)
	}
	if n := countRiverJobs(t, st, ""); n != 1 {
		t.Errorf("river holds %d jobs, want 1", n)
	}
}

func testInteractionAfterRestart(t *testing.T, b storetest.Backend) {
	url := b.URL(t)
	st := openStore(t, url)
	// The process that took the click stops before any worker ran it.
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	res, err := q.EnqueueInteraction(t.Context(), "slack:trigger:T1:4.5.6", clickArgs(8))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	st2 := openStore(t, url)
	run := &recordingInteractions{}
	q2 := newQueue(t, st2, testConfig(t), Handlers{Interactions: run}, true)
	waitFor(t, 30*time.Second, "the click to be done by the new process", func() (bool, error) {
		s, err := q2.JobState(t.Context(), res.JobID)
		return s == "completed", err
	})
	got := run.calls()
	if len(got) != 1 {
		t.Fatalf("runner called %d times, want 1", len(got))
	}
	// Blocks are compared as JSON: the database may re-encode the array.
	want := clickArgs(8)
	if diff := cmp.Diff(want, got[0], cmp.Comparer(jsonEqual)); diff != "" {
		t.Errorf("click as run (-want +got):\n%s", diff)
	}
}

func testInteractionInterrupted(t *testing.T, b storetest.Backend) {
	url := b.URL(t)
	st := openStore(t, url)
	started := make(chan struct{})
	blocking := &recordingInteractions{run: func(ctx context.Context, _ InteractionArgs) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	q := newQueue(t, st, testConfig(t), Handlers{Interactions: blocking}, false)
	interrupted, err := q.EnqueueInteraction(t.Context(), "", clickArgs(9))
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

	st2 := openStore(t, url)
	run := &recordingInteractions{run: func(_ context.Context, in InteractionArgs) error {
		if in.ReportID == 10 {
			return Permanent(errors.New("report 10 no longer exists; the person was told"))
		}
		return nil
	}}
	q2 := newQueue(t, st2, testConfig(t), Handlers{Interactions: run}, true)
	refused, err := q2.EnqueueInteraction(t.Context(), "", clickArgs(10))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the interrupted click to complete and the refused one to be cancelled", func() (bool, error) {
		s1, err := q2.JobState(t.Context(), interrupted.JobID)
		if err != nil {
			return false, err
		}
		s2, err := q2.JobState(t.Context(), refused.JobID)
		return s1 == "completed" && s2 == "cancelled", err
	})
	time.Sleep(1500 * time.Millisecond) // a retry of the refused click would have come by now
	var reports []int64
	for _, c := range run.calls() {
		reports = append(reports, c.ReportID)
	}
	if len(reports) != 2 {
		t.Errorf("clicks run after the restart: reports %v, want 9 and 10 once each", reports)
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return cmp.Equal(x, y)
}
