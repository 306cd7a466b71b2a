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
	// forUpdate is appended to SELECTs that lock the row they read: " FOR
	// UPDATE" in a PostgreSQL transaction, empty elsewhere (SQLite locks the
	// whole database for a write transaction; outside one there is nothing
	// to hold a lock).
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
		s.Queries = Queries{q: pgxQuerier{s.pool}}
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

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back when it fails or panics (the panic goes on after the rollback). On
// SQLite the store has a single connection, so fn must use tx, never s.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	ended := false
	defer func() {
		if !ended {
			tx.rollback(ctx)
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	ended = true // a failed commit ends the transaction too
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// begin starts a transaction on the store's backend.
func (s *Store) begin(ctx context.Context) (*Tx, error) {
	if s.sqlDB != nil {
		tx, err := s.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &Tx{Queries: Queries{q: sqlQuerier{tx}}, raw: tx}, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	return &Tx{Queries: Queries{q: pgxQuerier{tx}, forUpdate: " FOR UPDATE"}, raw: tx}, nil
}

func (t *Tx) commit(ctx context.Context) error {
	if tx, ok := t.raw.(*sql.Tx); ok {
		return tx.Commit()
	}
	return t.raw.(pgx.Tx).Commit(ctx)
}

// rollback ends the transaction without its writes, even when ctx ended.
func (t *Tx) rollback(ctx context.Context) {
	if tx, ok := t.raw.(*sql.Tx); ok {
		_ = tx.Rollback()
		return
	}
	_ = t.raw.(pgx.Tx).Rollback(context.WithoutCancel(ctx))
}
