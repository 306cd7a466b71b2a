package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one versioned schema step, migrations/<backend>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationLockID serializes the migrations of replicas starting together
// on PostgreSQL (see WithMigrationLock).
const migrationLockID = 0x666c7578 // "flux"

func loadMigrations(b Backend) ([]migration, error) {
	dir := path.Join("migrations", string(b))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name is not NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration versions must be 1..n without gaps, found %d at position %d", m.version, i+1)
		}
	}
	return out, nil
}

// migrate applies the pending migrations up to version upTo (0: all) in one
// transaction and returns the versions it applied.
func (s *Store) migrate(ctx context.Context, upTo int) ([]int, error) {
	all, err := loadMigrations(s.loc.Backend)
	if err != nil {
		return nil, err
	}
	if upTo == 0 || upTo > len(all) {
		upTo = len(all)
	}
	var applied []int
	err = s.WithMigrationLock(ctx, func(ctx context.Context) error {
		return s.InTx(ctx, func(tx *Tx) error {
			current, err := tx.prepareMigrations(ctx)
			if err != nil {
				return err
			}
			if current > len(all) {
				return fmt.Errorf("store: schema version %d is newer than this fluxdiff knows (%d); upgrade fluxdiff", current, len(all))
			}
			for _, m := range all[current:upTo] {
				if _, err := tx.q.exec(ctx, m.sql); err != nil {
					return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
				}
				if _, err := tx.q.exec(ctx, `INSERT INTO fluxdiff_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
					m.version, m.name, time.Now().UTC()); err != nil {
					return fmt.Errorf("store: record migration %d: %w", m.version, err)
				}
				applied = append(applied, m.version)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// prepareMigrations creates the version table when missing and returns the
// current schema version.
func (t *Tx) prepareMigrations(ctx context.Context) (int, error) {
	if _, err := t.q.exec(ctx, `CREATE TABLE IF NOT EXISTS fluxdiff_schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL
)`); err != nil {
		return 0, fmt.Errorf("store: create migrations table: %w", err)
	}
	return t.SchemaVersion(ctx)
}

// SchemaVersion returns the highest applied migration version.
func (q Queries) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := q.q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM fluxdiff_schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// WithMigrationLock runs fn while holding the migration lock, so that
// replicas starting together on an empty database migrate one after the
// other: the store's tables in Open, river's in queue.New (rivermigrate
// takes no lock of its own). On PostgreSQL it is a session-level advisory
// lock on a connection held for the duration; on SQLite the write lock of
// each migration transaction serializes them and fn just runs.
func (s *Store) WithMigrationLock(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.pool == nil {
		return fn(ctx)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: lock migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockID)); err != nil {
		return fmt.Errorf("store: lock migrations: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockID)); err != nil {
			// Ending the session releases the lock; the pool drops the
			// closed connection on Release.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn(ctx)
}
