package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestHeads(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := open(t, b)
			t.Run("the first two pushes of a new pull request see each other", func(t *testing.T) { testFirstPushesRace(t, s) })
			t.Run("only the head's own job may claim publishing", func(t *testing.T) { testClaimPublish(t, s) })
			t.Run("a panic in a transaction rolls it back and frees its locks", func(t *testing.T) { testInTxPanic(t, s) })
			t.Run("reading a head outside a transaction does not wait for its lock", func(t *testing.T) { testHeadReadDoesNotLock(t, s) })
		})
	}
}

// testFirstPushesRace holds the first push's transaction open while the
// second one runs: the second must wait for it and report it as replaced.
func testFirstPushesRace(t *testing.T, s *Store) {
	ctx := t.Context()
	firstSet, commitFirst := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.SetHead(ctx, Head{Repo: "acme/new", PR: 1, SHA: "aaa", JobID: 1}); err != nil {
				return err
			}
			close(firstSet)
			<-commitFirst
			return nil
		})
	}()
	<-firstSet
	secondDone := make(chan Head, 1)
	secondErr := make(chan error, 1)
	go func() {
		secondErr <- s.InTx(ctx, func(tx *Tx) error {
			prev, err := tx.SetHead(ctx, Head{Repo: "acme/new", PR: 1, SHA: "bbb", JobID: 2})
			secondDone <- prev
			return err
		})
	}()
	select {
	case prev := <-secondDone:
		t.Fatalf("the second push did not wait for the first (it replaced %+v)", prev)
	case <-time.After(300 * time.Millisecond):
	}
	close(commitFirst)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	prev := <-secondDone
	if err := <-secondErr; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"aaa", int64(1)}, []any{prev.SHA, prev.JobID}); diff != "" {
		t.Errorf("head replaced by the second push (-want +got):\n%s", diff)
	}
}

func testClaimPublish(t *testing.T, s *Store) {
	ctx := t.Context()
	set := func(sha string, job int64) {
		t.Helper()
		if err := s.InTx(ctx, func(tx *Tx) error {
			_, err := tx.SetHead(ctx, Head{Repo: "acme/pub", PR: 2, SHA: sha, JobID: job})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(sha string, job int64) string {
		err := s.ClaimPublish(ctx, "acme/pub", 2, sha, job)
		switch {
		case err == nil:
			return "claimed"
		case errors.Is(err, ErrNotHead):
			return "not head"
		default:
			t.Fatal(err)
			return ""
		}
	}
	set("aaa", 1)
	set("bbb", 2)
	set("aaa", 3) // force-pushed back to A
	got := []string{claim("aaa", 1), claim("bbb", 2), claim("aaa", 3), claim("aaa", 3)}
	if diff := cmp.Diff([]string{"not head", "not head", "claimed", "claimed"}, got); diff != "" {
		t.Errorf("claims by the jobs of A, B, A again, A again (-want +got):\n%s", diff)
	}
	h, err := s.Head(ctx, "acme/pub", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"aaa", int64(3)}, []any{h.PublishedSHA, h.PublishedJobID}); diff != "" {
		t.Errorf("published SHA and job (-want +got):\n%s", diff)
	}
	// A pull request without a head row (a job queued before heads were
	// kept) takes the claimant as its head.
	if err := s.ClaimPublish(ctx, "acme/pub", 20, "ccc", 9); err != nil {
		t.Errorf("claim without a head row: %v", err)
	}
	if err := s.ClaimPublish(ctx, "acme/pub", 20, "zzz", 10); !errors.Is(err, ErrNotHead) {
		t.Errorf("claim by another job after that: error = %v, want ErrNotHead", err)
	}
}

func testInTxPanic(t *testing.T, s *Store) {
	ctx := t.Context()
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the callback's panic to go on", r)
			}
		}()
		_ = s.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.SetHead(ctx, Head{Repo: "acme/panic", PR: 3, SHA: "aaa", JobID: 1}); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	// Without the rollback, SQLite's only connection and PostgreSQL's row
	// lock stay taken and this waits until the deadline.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var prev Head
	err := s.InTx(short, func(tx *Tx) error {
		var err error
		prev, err = tx.SetHead(short, Head{Repo: "acme/panic", PR: 3, SHA: "bbb", JobID: 2})
		return err
	})
	if err != nil {
		t.Fatalf("transaction after the panic: %v", err)
	}
	if prev.SHA != "" {
		t.Errorf("the panicked transaction's head %q was kept, want it rolled back", prev.SHA)
	}
}

func testHeadReadDoesNotLock(t *testing.T, s *Store) {
	if s.Backend() == SQLite {
		t.Skip("SQLite's single connection is the transaction's until it ends")
	}
	ctx := t.Context()
	if err := s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.SetHead(ctx, Head{Repo: "acme/read", PR: 4, SHA: "aaa", JobID: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	locked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.LockHead(ctx, "acme/read", 4); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, err := s.Head(short, "acme/read", 4)
	close(release)
	if err != nil || h.SHA != "aaa" {
		t.Errorf("Head while another transaction locks the row = %+v, %v; want it read at once", h, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
