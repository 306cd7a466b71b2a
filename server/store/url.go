package store

import (
	"errors"
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
// postgresql://.... Its errors never contain the password: they show the
// URL redacted, or nothing of it when it does not parse.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole input, password included.
		return Location{}, errors.New("store url is not a valid URL")
	}
	switch u.Scheme {
	case "sqlite":
		p := u.Host + u.Path
		if p == "" {
			return Location{}, fmt.Errorf("store url %q names no file", u.Redacted())
		}
		return Location{Backend: SQLite, Path: p}, nil
	case "postgres", "postgresql":
		return Location{Backend: Postgres, DSN: raw}, nil
	case "":
		// Possibly a keyword DSN ("host=... password=..."): do not echo it.
		return Location{}, errors.New("store url has no scheme: want sqlite://, postgres:// or postgresql://")
	default:
		return Location{}, fmt.Errorf("store url scheme %q is not sqlite, postgres or postgresql", u.Scheme)
	}
}
