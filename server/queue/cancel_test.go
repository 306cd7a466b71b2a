package queue

import (
	"context"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

// commentRecorder records the comments it is handed.
type commentRecorder struct{ got chan CommentArgs }

func (c commentRecorder) RunComment(_ context.Context, a CommentArgs) error {
	c.got <- a
	return nil
}

func TestClosedPullRequestsAndComments(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("closing a pull request cancels its queued diff and a reopen diffs it again", func(t *testing.T) { testCancelPR(t, b) })
			t.Run("a comment is handled once per delivery", func(t *testing.T) { testEnqueueComment(t, b) })
			t.Run("a re-run of the SHA being diffed queues a new job that supersedes it", func(t *testing.T) { testRerunOfLiveSHA(t, b) })
		})
	}
}

func testCancelPR(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	if id, err := q.CancelPR(t.Context(), "d-0", "acme/infra", 7); err != nil || id != 0 {
		t.Fatalf("cancel of a pull request with no job = %d, %v; want 0, nil", id, err)
	}
	first, err := q.EnqueuePRDiff(t.Context(), prArgs(7, "aaa", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := q.CancelPR(t.Context(), "d-2", "acme/infra", 7)
	if err != nil || id != first.JobID {
		t.Fatalf("cancel = %d, %v; want job %d", id, err, first.JobID)
	}
	if state, err := q.JobState(t.Context(), first.JobID); err != nil || state != "cancelled" {
		t.Errorf("job state after close = %q, %v; want cancelled", state, err)
	}
	if id, err := q.CancelPR(t.Context(), "d-2", "acme/infra", 7); err != nil || id != 0 {
		t.Errorf("the same close delivery again = %d, %v; want 0, nil", id, err)
	}
	again, err := q.EnqueuePRDiff(t.Context(), prArgs(7, "aaa", "d-3"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Duplicate || again.JobID == first.JobID || again.JobID == 0 {
		t.Errorf("reopen at the same SHA = %+v; want a new job", again)
	}
}

func testEnqueueComment(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	rec := commentRecorder{got: make(chan CommentArgs, 4)}
	q := newQueue(t, st, testConfig(t), Handlers{Comments: rec}, true)
	args := CommentArgs{DeliveryID: "c-1", InstallationID: 1, Repo: "acme/infra", PR: 3, CommentID: 99, User: "octocat", Body: "/flux-diff"}
	first, err := q.EnqueueComment(t.Context(), args)
	if err != nil || first.JobID == 0 {
		t.Fatalf("enqueue comment = %+v, %v", first, err)
	}
	dup, err := q.EnqueueComment(t.Context(), args)
	if err != nil || !dup.Duplicate {
		t.Errorf("same delivery again = %+v, %v; want a duplicate", dup, err)
	}
	if _, err := q.EnqueueComment(t.Context(), CommentArgs{Repo: "acme/infra"}); err == nil || !IsPermanent(err) {
		t.Errorf("a comment without pull request or user was accepted: %v", err)
	}
	select {
	case got := <-rec.got:
		if got != args {
			t.Errorf("handled %+v, want %+v", got, args)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the comment was not handled")
	}
	select {
	case got := <-rec.got:
		t.Errorf("handled a second time: %+v", got)
	case <-time.After(300 * time.Millisecond):
	}
}

func testRerunOfLiveSHA(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	first, err := q.EnqueuePRDiff(t.Context(), prArgs(9, "aaa", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	auto, err := q.EnqueuePRDiff(t.Context(), prArgs(9, "aaa", "d-2"))
	if err != nil || !auto.Duplicate {
		t.Fatalf("an automatic request for the queued SHA = %+v, %v; want a duplicate", auto, err)
	}
	rerun := prArgs(9, "aaa", "d-3")
	rerun.Rerun, rerun.Trigger = true, "check_run.rerequested"
	got, err := q.EnqueuePRDiff(t.Context(), rerun)
	if err != nil {
		t.Fatal(err)
	}
	if got.Duplicate || got.JobID == first.JobID || got.Superseded != first.JobID {
		t.Errorf("re-run = %+v; want a new job superseding %d", got, first.JobID)
	}
	if state, err := q.JobState(t.Context(), first.JobID); err != nil || state != "cancelled" {
		t.Errorf("the superseded job is %q, %v; want cancelled", state, err)
	}
}
