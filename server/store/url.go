package store

import (
	"fmt"
	"net/url"
)

// Backend names the database behind a Store.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Location is a parsed store URL.
type Location struct {
	// Backend is SQLite or Postgres.
	Backend Backend
	// Path is the SQLite file (empty for PostgreSQL).
	Path string
	// DSN is the PostgreSQL connection string (empty for SQLite).
	DSN string
}

// ParseURL reads a store URL: sqlite:///abs/path.db, sqlite://./rel/path.db
// (the host and path together are the file), postgres://... or
// postgresql://....
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("store url %q: %w", raw, err)
	}
	switch u.Scheme {
	case "sqlite":
		p := u.Host + u.Path
		if p == "" {
			return Location{}, fmt.Errorf("store url %q names no file", raw)
		}
		return Location{Backend: SQLite, Path: p}, nil
	case "postgres", "postgresql":
		return Location{Backend: Postgres, DSN: raw}, nil
	default:
		return Location{}, fmt.Errorf("store url %q: scheme must be sqlite, postgres or postgresql", raw)
	}
}
