// Package storetest gives tests real stores: a fresh SQLite file, or a fresh
// database on the PostgreSQL at 127.0.0.1:5432 (dropped when the test ends).
// Without PostgreSQL, tests skip with instructions; under CI=true they fail.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdminURL is the PostgreSQL database used to create and drop test
// databases; FLUXDIFF_TEST_POSTGRES_URL overrides it.
const AdminURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// startHint tells how to start the local PostgreSQL.
const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// Backend is one store backend to run a test against.
type Backend struct {
	// Name reads well in a subtest name: "on SQLite", "on PostgreSQL".
	Name string
	// URL returns a store URL of a fresh, empty database for t.
	URL func(t testing.TB) string
}

// Backends are SQLite and PostgreSQL, for table-driven tests.
func Backends() []Backend {
	return []Backend{{Name: "on SQLite", URL: SQLiteURL}, {Name: "on PostgreSQL", URL: PostgresURL}}
}

// SQLiteURL returns the URL of a new SQLite file in t's temporary folder.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "data", "fluxdiff.db")
}

// PostgresURL creates a database of its own for t and returns its URL; the
// database is dropped when t ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("FLUXDIFF_TEST_POSTGRES_URL")
	if admin == "" {
		admin = AdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Unavailable(t, fmt.Errorf("PostgreSQL at %s is not reachable (%v); %s", redact(admin), err, startHint))
	}
	defer func() { _ = conn.Close(context.Background()) }()
	name := "fluxdiff_test_" + randomHex(t, 6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("admin url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func dropDatabase(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// Unavailable skips t because a real service is missing, or fails it under
// CI=true, where everything must be provided.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required under CI=true: %v", err)
	}
	t.Skip(err.Error())
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
