package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// Handlers are what the workers call. A nil handler fails its jobs
// permanently with a message saying it is not configured.
type Handlers struct {
	Runner    Runner
	Publisher Publisher
	Commands  CommandRunner
	Comments  CommentRunner
	// Interactions acts on Slack button clicks.
	Interactions InteractionRunner
	// Superseded, when set, is told of diffs that a newer push superseded
	// after they had stopped; nil leaves what they started as it is.
	Superseded SupersededHandler
}

// Queue enqueues and works fluxdiff's jobs.
type Queue struct {
	cfg    Config
	store  *store.Store
	engine engine
	log    *slog.Logger
}

// New migrates river's tables on st's database and builds the queue. It
// works jobs only after Start; without Start it only enqueues.
func New(ctx context.Context, st *store.Store, cfg Config, h Handlers) (*Queue, error) {
	if cfg.FetchPollInterval <= 0 && st.Backend() == store.SQLite {
		cfg.FetchPollInterval = sqlitePollInterval
	}
	cfg = cfg.withDefaults()
	q := &Queue{cfg: cfg, store: st, log: cfg.Logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, &diffWorker{store: st, h: h, log: cfg.Logger, clusters: NewClusterLimiter(cfg.ClusterConcurrency)})
	river.AddWorker(workers, &commandWorker{h: h, log: cfg.Logger})
	river.AddWorker(workers, &commentWorker{h: h, log: cfg.Logger})
	river.AddWorker(workers, &interactionWorker{h: h, log: cfg.Logger})
	river.AddWorker(workers, &purgeWorker{store: st, now: cfg.Now, log: cfg.Logger})
	eng, err := newEngine(ctx, st, &river.Config{
		Logger:  cfg.Logger.With("component", "river"),
		Workers: workers,
		Queues: map[string]river.QueueConfig{
			queueDiff: {MaxWorkers: cfg.Workers}, queueCommand: {MaxWorkers: cfg.CommandWorkers}, queueMaintenance: {MaxWorkers: 1},
		},
		PeriodicJobs:         []*river.PeriodicJob{purgeJob(cfg.PurgeInterval)},
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		FetchPollInterval:    cfg.FetchPollInterval,
		FetchCooldown:        min(cfg.FetchPollInterval, river.FetchCooldownDefault),
	})
	if err != nil {
		return nil, err
	}
	q.engine = eng
	return q, nil
}

// Start begins working jobs. It returns at once; call Stop to end.
func (q *Queue) Start(ctx context.Context) error {
	// The workers stop through Stop, never because a request context ended.
	if err := q.engine.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	q.log.Info("queue started", "workers", q.cfg.Workers, "cluster_concurrency", q.cfg.ClusterConcurrency, "backend", string(q.store.Backend()))
	return nil
}

// Stop takes no new jobs and waits for running ones until ctx ends; then
// it cancels what still runs and waits up to 10s more for those jobs to
// return, so that they are recorded as retryable rather than left running
// until RescueStuckJobsAfter. Cancelled and unfinished jobs run again
// later, here or after a restart. Enqueueing still works after Stop.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.engine.stop(ctx)
	if err == nil {
		q.log.Info("queue stopped")
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	q.log.Warn("queue: jobs still running at the shutdown deadline; cancelling them, they will run again")
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if herr := q.engine.stopAndCancel(hctx); herr != nil {
		return fmt.Errorf("queue: stop: %w", errors.Join(err, herr))
	}
	return nil
}

// JobState returns the state of a job ("available", "running",
// "completed", "cancelled", ...).
func (q *Queue) JobState(ctx context.Context, jobID int64) (string, error) {
	j, err := q.engine.job(ctx, jobID)
	if err != nil {
		return "", fmt.Errorf("queue: job %d: %w", jobID, err)
	}
	return string(j.State), nil
}

// jobRow returns the whole job row, for tests.
func (q *Queue) jobRow(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return q.engine.job(ctx, jobID)
}
