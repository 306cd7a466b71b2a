package queue

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// engine is river without its transaction type parameter, so that the rest
// of the package is one code path for both backends.
type engine interface {
	insertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	cancel(ctx context.Context, jobID int64) error
	job(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	jobTx(ctx context.Context, tx *store.Tx, jobID int64) (*rivertype.JobRow, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
}

// newEngine migrates river's tables, under the store's migration lock, and
// builds its client on the store's database.
func newEngine(ctx context.Context, st *store.Store, cfg *river.Config) (engine, error) {
	switch st.Backend() {
	case store.SQLite:
		return newRiverEngine[*sql.Tx](ctx, st, riversqlite.New(st.SQLDB()), cfg)
	case store.Postgres:
		return newRiverEngine[pgx.Tx](ctx, st, riverpgxv5.New(st.PgxPool()), cfg)
	default:
		return nil, fmt.Errorf("queue: unsupported store backend %q", st.Backend())
	}
}

type riverEngine[TTx any] struct {
	client *river.Client[TTx]
}

func newRiverEngine[TTx any](ctx context.Context, st *store.Store, driver riverdriver.Driver[TTx], cfg *river.Config) (*riverEngine[TTx], error) {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("queue: migrator: %w", err)
	}
	// rivermigrate takes no lock: replicas starting together on an empty
	// database would both create river's tables.
	err = st.WithMigrationLock(ctx, func(ctx context.Context) error {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue: migrate river tables: %w", err)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: river client: %w", err)
	}
	return &riverEngine[TTx]{client: client}, nil
}

func (e *riverEngine[TTx]) insertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	raw, err := rawTx[TTx](tx)
	if err != nil {
		return nil, err
	}
	return e.client.InsertTx(ctx, raw, args, opts)
}

func (e *riverEngine[TTx]) jobTx(ctx context.Context, tx *store.Tx, jobID int64) (*rivertype.JobRow, error) {
	raw, err := rawTx[TTx](tx)
	if err != nil {
		return nil, err
	}
	return e.client.JobGetTx(ctx, raw, jobID)
}

// rawTx is the driver's transaction inside tx.
func rawTx[TTx any](tx *store.Tx) (TTx, error) {
	raw, ok := tx.Raw().(TTx)
	if !ok {
		return raw, fmt.Errorf("queue: store transaction is %T, not the river driver's", tx.Raw())
	}
	return raw, nil
}

func (e *riverEngine[TTx]) cancel(ctx context.Context, jobID int64) error {
	_, err := e.client.JobCancel(ctx, jobID)
	return err
}

func (e *riverEngine[TTx]) job(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return e.client.JobGet(ctx, jobID)
}

func (e *riverEngine[TTx]) start(ctx context.Context) error { return e.client.Start(ctx) }
func (e *riverEngine[TTx]) stop(ctx context.Context) error  { return e.client.Stop(ctx) }
func (e *riverEngine[TTx]) stopAndCancel(ctx context.Context) error {
	return e.client.StopAndCancel(ctx)
}
