package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

// open opens a fresh store of backend b for t, closed when t ends.
func open(t *testing.T, b storetest.Backend) *Store {
	t.Helper()
	s, err := Open(t.Context(), b.URL(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, raw string
		want      Location
		wantErr   bool
	}{
		{name: "an absolute SQLite path is the URL path", raw: "sqlite:///var/lib/fluxdiff/fluxdiff.db", want: Location{Backend: SQLite, Path: "/var/lib/fluxdiff/fluxdiff.db"}},
		{name: "a relative SQLite path joins host and path", raw: "sqlite://./data/fluxdiff.db", want: Location{Backend: SQLite, Path: "./data/fluxdiff.db"}},
		{name: "postgres URLs are kept whole", raw: "postgres://u@db:5432/fluxdiff?sslmode=disable", want: Location{Backend: Postgres, DSN: "postgres://u@db:5432/fluxdiff?sslmode=disable"}},
		{name: "postgresql is the same scheme", raw: "postgresql://db/fluxdiff", want: Location{Backend: Postgres, DSN: "postgresql://db/fluxdiff"}},
		{name: "a SQLite URL without a file is refused", raw: "sqlite://", wantErr: true},
		{name: "other schemes are refused", raw: "mysql://db/fluxdiff", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseURL(%q) error = %v, want error %v", tt.raw, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseURL(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestStoreErrorsNeverShowThePassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, raw := range []string{
		"postgres://fluxdiff:" + secret + "@db:notaport/fluxdiff",   // does not parse
		"mysql://fluxdiff:" + secret + "@db/fluxdiff",               // wrong scheme
		"host=db user=fluxdiff password=" + secret + " dbname=flux", // keyword DSN
		"postgres://fluxdiff:" + secret + "@db/fluxdiff?sslmode=bogus",
		"postgres://fluxdiff:" + secret + "@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", // unreachable
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := Open(ctx, raw)
		cancel()
		if err == nil {
			t.Errorf("Open(%s...) succeeded", raw[:12])
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
	_, err := ParseURL("sqlite://:" + secret + "@")
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "names no file") {
		t.Errorf("ParseURL of a SQLite URL without a file: error = %v, want it redacted", err)
	}
}

func TestOpenSQLiteCreatesTheFolderAndUsesWAL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := Open(t.Context(), "sqlite://"+filepath.Join(dir, "fluxdiff.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "fluxdiff.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	if err := s.SQLDB().QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	var fk, busy int
	if err := s.SQLDB().QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if err := s.SQLDB().QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"wal", 1, 10000}, []any{mode, fk, busy}); diff != "" {
		t.Errorf("journal_mode, foreign_keys, busy_timeout (-want +got):\n%s", diff)
	}
}

func TestOpenRefusesAnUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
}

func TestStoreRecords(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := open(t, b)
			t.Run("a report round-trips and a second save with its job key replaces it", func(t *testing.T) { testReports(t, s) })
			t.Run("a delivery is claimed once until its claim expires", func(t *testing.T) { testDeliveries(t, s) })
			t.Run("approvals are appended to the audit trail", func(t *testing.T) { testApprovals(t, s) })
			t.Run("a published ref is created then updated in place", func(t *testing.T) { testPublishedRefs(t, s) })
			t.Run("setting a head returns the one it replaced", func(t *testing.T) { testHeads(t, s) })
		})
	}
}

func testReports(t *testing.T, s *Store) {
	ctx := t.Context()
	created := time.Date(2026, 3, 1, 12, 30, 15, 250_000_000, time.UTC)
	in := Report{JobKey: "pr-diff:1", Repo: "acme/infra", PR: 12, HeadSHA: "aaa", MergeSHA: "mmm",
		Clusters: []string{"prod", "staging"}, Created: created, Body: []byte(`{"changes":1}`)}
	id, err := s.SaveReport(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Body = []byte(`{"changes":2}`)
	id2, err := s.SaveReport(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != id {
		t.Errorf("second save with the same job key got id %d, want %d", id2, id)
	}
	if _, err := s.SaveReport(ctx, Report{Repo: "acme/infra", PR: 12, HeadSHA: "bbb", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reports(ctx, "acme/infra", 12)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID = id
	if len(got) != 2 {
		t.Fatalf("got %d reports, want 2", len(got))
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if _, err := s.Report(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Report(9999) error = %v, want ErrNotFound", err)
	}
	if _, err := s.SaveReport(ctx, Report{Repo: "acme/infra", PR: 1, Body: []byte("not json")}); err == nil {
		t.Error("SaveReport accepted a body that is not JSON")
	}
}

func testDeliveries(t *testing.T, s *Store) {
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key := DeliveryKey("72d3162e-cc78-11e3-81ab-4c9367dc0958")
	var got []bool
	for _, at := range []time.Time{now, now.Add(time.Minute), now.Add(2 * time.Hour)} {
		ok, err := s.ClaimDelivery(ctx, key, at, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	if diff := cmp.Diff([]bool{true, false, true}, got); diff != "" {
		t.Errorf("claims at 0, +1m, +2h with a 1h expiry (-want +got):\n%s", diff)
	}
	if _, err := s.ClaimDelivery(ctx, SlackRequestKey("v0=abc", "1700000000"), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeDeliveries(ctx, now.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("purged %d expired claims, want 1 (the Slack one)", n)
	}
}

func testApprovals(t *testing.T, s *Store) {
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	in := []Approval{
		{Repo: "acme/infra", PR: 7, HeadSHA: "aaa", Actor: "slack:U1", Source: "slack", Outcome: "approved", At: at},
		{Repo: "acme/infra", PR: 7, HeadSHA: "bbb", Actor: "slack:U2", Source: "slack", Outcome: "stale-sha", Detail: "head moved", At: at.Add(time.Second)},
	}
	for i := range in {
		id, err := s.RecordApproval(ctx, in[i])
		if err != nil {
			t.Fatal(err)
		}
		in[i].ID = id
	}
	got, err := s.Approvals(ctx, "acme/infra", 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

func testPublishedRefs(t *testing.T, s *Store) {
	ctx := t.Context()
	if _, err := s.PublishedRef(ctx, RefPRComment, "acme/infra#3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing ref error = %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rid, err := s.SaveReport(ctx, Report{Repo: "acme/infra", PR: 3, HeadSHA: "c", Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []PublishedRef{
		{Kind: RefPRComment, Key: "acme/infra#3", ExternalID: "1001", Updated: at},
		{Kind: RefPRComment, Key: "acme/infra#3", ExternalID: "1001", ReportID: rid, Updated: at.Add(time.Minute)},
	} {
		if err := s.SavePublishedRef(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PublishedRef(ctx, RefPRComment, "acme/infra#3")
	if err != nil {
		t.Fatal(err)
	}
	want := PublishedRef{Kind: RefPRComment, Key: "acme/infra#3", ExternalID: "1001", ReportID: rid, Updated: at.Add(time.Minute)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ref (-want +got):\n%s", diff)
	}
	if n, err := s.CountPublishedRefs(ctx); err != nil || n != 1 {
		t.Errorf("CountPublishedRefs = %d, %v; want 1", n, err)
	}
}

func testHeads(t *testing.T, s *Store) {
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var prevs []Head
	for i, sha := range []string{"aaa", "bbb"} {
		err := s.InTx(ctx, func(tx *Tx) error {
			prev, err := tx.SetHead(ctx, Head{Repo: "acme/infra", PR: 5, SHA: sha, JobID: int64(i + 10), Updated: at})
			prevs = append(prevs, prev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []Head{{}, {Repo: "acme/infra", PR: 5, SHA: "aaa", JobID: 10, Updated: at}}
	if diff := cmp.Diff(want, prevs); diff != "" {
		t.Errorf("previous heads (-want +got):\n%s", diff)
	}
	h, err := s.Head(ctx, "acme/infra", 5)
	if err != nil {
		t.Fatal(err)
	}
	if h.SHA != "bbb" || h.JobID != 11 {
		t.Errorf("head = %+v, want bbb with job 11", h)
	}
}
