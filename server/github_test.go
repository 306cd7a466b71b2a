package server_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// A base-branch change makes a new merge result: unlike a second delivery
// for the same head, it replaces the head's queued diff, which would
// build the old merge.
func TestBaseChangeReplacesTheQueuedDiffOfTheSameHead(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "fluxdiff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	q, err := queue.New(t.Context(), st, queue.Config{Logger: slog.New(slog.DiscardHandler)}, queue.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	d := server.GitHubDispatcher{Queue: q}
	req := githubapp.DiffRequest{InstallationID: 1, Repo: "acme/fleet", PR: 7, HeadSHA: "aaa"}
	head := func() store.Head {
		t.Helper()
		h, err := st.Head(t.Context(), "acme/fleet", 7)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	for i, trigger := range []string{"pull_request.opened", "pull_request.synchronize"} {
		req.DeliveryID, req.Trigger = "d-"+trigger, trigger
		if err := d.DiffPR(t.Context(), req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	queued := head().JobID
	req.DeliveryID, req.Trigger = "d-edited", "pull_request.edited"
	if err := d.DiffPR(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	edited := head().JobID
	state, err := q.JobState(t.Context(), queued)
	if err != nil {
		t.Fatal(err)
	}
	if queued != 1 || edited == queued || state != "cancelled" {
		t.Errorf("jobs: first %d (%s), after the base change %d; want job 1 alone for the two deliveries, then cancelled and replaced", queued, state, edited)
	}
}
