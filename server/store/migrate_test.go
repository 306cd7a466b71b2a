package store

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestMigrations(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a store created by schema version 1 upgrades in place and keeps its data", func(t *testing.T) {
				testUpgradeInPlace(t, b)
			})
			t.Run("a store newer than this binary is refused", func(t *testing.T) {
				testNewerSchemaRefused(t, b)
			})
		})
	}
}

func testUpgradeInPlace(t *testing.T, b storetest.Backend) {
	ctx := t.Context()
	url := b.URL(t)
	old, err := openAt(ctx, url, 1)
	if err != nil {
		t.Fatalf("open at version 1: %v", err)
	}
	if v, err := old.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("schema version = %d, %v; want 1", v, err)
	}
	// Version 1 has no job_key column: write the row as an old binary would.
	if _, err := old.q.exec(ctx, `INSERT INTO reports (repo, pr, head_sha, clusters, created_at, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		"acme/infra", 4, "old", `["prod"]`, "2026-01-02 03:04:05+00:00", `{"v":1}`); err != nil {
		t.Fatalf("insert at version 1: %v", err)
	}
	if _, err := old.PublishedRef(ctx, RefPRComment, "x"); err == nil || !strings.Contains(err.Error(), "published_refs") {
		t.Fatalf("version 1 unexpectedly has published_refs (err = %v)", err)
	}
	old.Close()

	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	all, err := loadMigrations(s.Backend())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(all) || v < 3 {
		t.Fatalf("schema version after upgrade = %d, %v; want the latest, %d", v, err, len(all))
	}
	got, err := s.Reports(ctx, "acme/infra", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d reports after upgrade, want the 1 written before", len(got))
	}
	if diff := cmp.Diff([]string{"old", "", `{"v":1}`}, []string{got[0].HeadSHA, got[0].JobKey, string(got[0].Body)}); diff != "" {
		t.Errorf("old report after upgrade (-want +got):\n%s", diff)
	}
	if err := s.SavePublishedRef(ctx, PublishedRef{Kind: RefCheckRun, Key: "acme/infra@old", ExternalID: "9", ReportID: got[0].ID}); err != nil {
		t.Errorf("new table after upgrade: %v", err)
	}
	applied, err := s.migrate(ctx, 0)
	if err != nil || len(applied) != 0 {
		t.Errorf("migrating again applied %v, %v; want nothing", applied, err)
	}
}

func testNewerSchemaRefused(t *testing.T, b storetest.Backend) {
	ctx := t.Context()
	url := b.URL(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.q.exec(ctx, `INSERT INTO fluxdiff_schema_migrations (version, name, applied_at) VALUES (99, 'future', $1)`,
		"2030-01-01 00:00:00+00:00"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
		t.Errorf("Open of a newer store: error = %v, want it to say the schema is newer", err)
	}
}
