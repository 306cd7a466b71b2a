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
	// stopQueue starts stopping the queue; stopped is closed once it has.
	stopQueue context.CancelFunc
	stopped   chan struct{}
}

// openDurable opens and migrates the store at cfg.Store.URL and starts the
// queue's workers on it. When ctx ends (the shutdown signal) the queue
// stops taking jobs at once, while the HTTP server drains: running jobs
// have until cfg.ShutdownTimeout after the signal, the deadline of the HTTP
// shutdown too (see stopQueueOn).
//
// ready, when not nil, is called with the queue before it starts working
// jobs: handlers that enqueue (a /flux-diff comment queues a diff) get it
// there, so that no job runs before they have it.
func openDurable(ctx context.Context, cfg *config.Config, log *slog.Logger, handlers func(*store.Store) queue.Handlers, ready func(*queue.Queue)) (*durable, error) {
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
	h := handlers(st)
	if h.Runner == nil {
		log.Warn("diff pipeline not configured (GitHub is off): queued diffs fail without retry")
	}
	q, err := queue.New(ctx, st, queue.Config{
		Logger:             log,
		Workers:            cfg.Queue.Workers,
		ClusterConcurrency: cfg.Queue.ClusterConcurrency,
		JobTimeout:         cfg.Queue.JobTimeout.Duration,
	}, h)
	if err != nil {
		st.Close()
		return nil, err
	}
	if ready != nil {
		ready(q)
	}
	if err := q.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	d := &durable{store: st, queue: q, log: log}
	d.stopQueueOn(ctx, cfg.ShutdownTimeout.Duration)
	return d, nil
}

// stopQueueOn stops the queue when ctx ends or stopQueue is called: it
// takes no new jobs and lets running ones finish until timeout later, then
// cancels them (Queue.Stop); they run again after a restart.
func (d *durable) stopQueueOn(ctx context.Context, timeout time.Duration) {
	ctx, d.stopQueue = context.WithCancel(ctx)
	d.stopped = make(chan struct{})
	go func() {
		defer close(d.stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := d.queue.Stop(sctx); err != nil {
			d.log.Error("queue stop", "error", err.Error())
		}
	}()
}

// check is the store's readiness check.
func (d *durable) check() server.Check {
	return server.Check{Name: "store", Run: d.store.Ping}
}

// close waits for the queue to stop, stopping it now if the shutdown signal
// has not come (the server failed), then closes the store. Call it after
// the HTTP server has drained: handlers enqueue through the store.
func (d *durable) close() {
	d.stopQueue()
	<-d.stopped
	d.store.Close()
}
