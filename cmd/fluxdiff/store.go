package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// durable is the store and the queue working on it.
type durable struct {
	store *store.Store
	queue *queue.Queue
	log   *slog.Logger
}

// openDurable opens and migrates the store at cfg.Store.URL and starts the
// queue's workers on it.
func openDurable(ctx context.Context, cfg *config.Config, log *slog.Logger) (*durable, error) {
	st, err := store.Open(ctx, cfg.Store.URL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("store ready", "backend", string(st.Backend()), "schema_version", v)
	// The diff pipeline and the publishers arrive with later issues; until
	// then, queued jobs fail permanently saying "pipeline not configured yet".
	log.Warn("diff pipeline not configured yet: queued diffs and Slack commands fail without retry")
	q, err := queue.New(ctx, st, queue.Config{
		Logger:             log,
		Workers:            cfg.Queue.Workers,
		ClusterConcurrency: cfg.Queue.ClusterConcurrency,
	}, queue.Handlers{})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := q.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return &durable{store: st, queue: q, log: log}, nil
}

// check is the store's readiness check.
func (d *durable) check() server.Check {
	return server.Check{Name: "store", Run: d.store.Ping}
}

// close lets running jobs finish for at most timeout (unfinished ones run
// again after a restart), then closes the store.
func (d *durable) close(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := d.queue.Stop(ctx); err != nil {
		d.log.Error("queue stop", "error", err.Error())
	}
	d.store.Close()
}
