package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// Queries are the store's reads and writes. Store runs each on its own;
// Tx runs them in one transaction.
type Queries struct {
	q querier
	// forUpdate is appended to SELECTs that lock the row they read
	// (PostgreSQL); SQLite locks the whole database for a write transaction.
	forUpdate string
}

// Store is the durable store on one of the two backends.
type Store struct {
	Queries
	loc   Location
	sqlDB *sql.DB       // SQLite
	pool  *pgxpool.Pool // PostgreSQL
}

// Tx is a transaction on the store. Its queries commit or roll back together.
type Tx struct {
	Queries
	raw any
}

// Raw returns the driver's transaction: *sql.Tx on SQLite, pgx.Tx on
// PostgreSQL. The queue inserts its jobs through it.
func (t *Tx) Raw() any { return t.raw }

// Open connects to the store at rawURL, creating the SQLite file and its
// folder when missing, and applies every pending migration.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	return openAt(ctx, rawURL, 0)
}

// openAt opens the store and migrates it up to version upTo (0: the latest).
func openAt(ctx context.Context, rawURL string, upTo int) (*Store, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{loc: loc}
	switch loc.Backend {
	case SQLite:
		if s.sqlDB, err = openSQLite(ctx, loc.Path); err != nil {
			return nil, err
		}
		s.Queries = Queries{q: sqlQuerier{s.sqlDB}}
	case Postgres:
		if s.pool, err = openPostgres(ctx, loc.DSN); err != nil {
			return nil, err
		}
		s.Queries = Queries{q: pgxQuerier{s.pool}, forUpdate: " FOR UPDATE"}
	}
	if _, err := s.migrate(ctx, upTo); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Backend tells which database is behind the store.
func (s *Store) Backend() Backend { return s.loc.Backend }

// SQLDB is the SQLite connection pool (nil on PostgreSQL). It holds a single
// connection: SQLite allows one writer, and river's SQLite driver asks for it.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// PgxPool is the PostgreSQL pool (nil on SQLite).
func (s *Store) PgxPool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.q.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.loc.Backend, err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() {
	if s.sqlDB != nil {
		_ = s.sqlDB.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}

// InTx runs fn in a transaction, committing when it returns nil. On SQLite
// the store has a single connection, so fn must use tx, never s.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.sqlDB != nil {
		tx, err := s.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		if err := fn(&Tx{Queries: Queries{q: sqlQuerier{tx}}, raw: tx}); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
		return nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{Queries: Queries{q: pgxQuerier{tx}, forUpdate: s.forUpdate}, raw: tx}); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
