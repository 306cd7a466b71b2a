package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the shared queries need from a connection or transaction
// of either backend. Queries use $1-style placeholders, which both
// PostgreSQL and SQLite understand.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	queryRow(ctx context.Context, q string, args ...any) row
	query(ctx context.Context, q string, args ...any) (rows, error)
}

// row is one result row; Scan returns ErrNotFound when there is none.
type row interface{ Scan(dest ...any) error }

// rows iterates over a result set.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// sqlExecer is satisfied by *sql.DB, *sql.Conn and *sql.Tx.
type sqlExecer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// sqlQuerier adapts database/sql (the SQLite backend).
type sqlQuerier struct{ db sqlExecer }

func (s sqlQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqlQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return notFoundRow{s.db.QueryRowContext(ctx, q, args...)}
}

func (s sqlQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// pgxExecer is satisfied by *pgxpool.Pool and pgx.Tx.
type pgxExecer interface {
	Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
}

// pgxQuerier adapts pgx (the PostgreSQL backend).
type pgxQuerier struct{ db pgxExecer }

func (p pgxQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.db.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p pgxQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return notFoundRow{p.db.QueryRow(ctx, q, args...)}
}

func (p pgxQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	return p.db.Query(ctx, q, args...)
}

// notFoundRow turns either driver's "no rows" into ErrNotFound.
type notFoundRow struct{ row }

func (r notFoundRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
