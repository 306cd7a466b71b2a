package queue

import (
	"log/slog"
	"time"
)

// Config configures a Queue. Zero fields take the defaults below.
type Config struct {
	// Logger receives the queue's and river's logs; required.
	Logger *slog.Logger
	// Workers is how many diff jobs this process runs at once (default 4).
	Workers int
	// CommandWorkers is how many Slack commands run at once (default 4).
	CommandWorkers int
	// ClusterConcurrency bounds the jobs of this process working on one
	// cluster at once (default 2).
	ClusterConcurrency int
	// MaxAttempts bounds the runs of a failing job (default 8: with river's
	// backoff, retries spread over about an hour and a half).
	MaxAttempts int
	// JobTimeout cancels a job's context after this long (default 15m).
	JobTimeout time.Duration
	// RescueStuckJobsAfter makes a job that has been running this long,
	// such as one whose process died, eligible to run again (default
	// JobTimeout + 5m; must exceed JobTimeout).
	RescueStuckJobsAfter time.Duration
	// DedupTTL is how long a delivery key is remembered (default 72h).
	DedupTTL time.Duration
	// PurgeInterval is how often expired delivery keys are deleted, by a
	// periodic job that the queue's leader inserts (default 1h; also once
	// when the queue starts).
	PurgeInterval time.Duration
	// FetchPollInterval is how often to look for new jobs without a
	// notification (default 1s; on SQLite, which has no notifications,
	// 100ms: see sqlitePollInterval).
	FetchPollInterval time.Duration
	// Now returns the time (default time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.CommandWorkers <= 0 {
		c.CommandWorkers = 4
	}
	if c.ClusterConcurrency <= 0 {
		c.ClusterConcurrency = 2
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 15 * time.Minute
	}
	if c.RescueStuckJobsAfter <= c.JobTimeout {
		c.RescueStuckJobsAfter = c.JobTimeout + 5*time.Minute
	}
	if c.DedupTTL <= 0 {
		c.DedupTTL = 72 * time.Hour
	}
	if c.PurgeInterval <= 0 {
		c.PurgeInterval = time.Hour
	}
	if c.FetchPollInterval <= 0 {
		c.FetchPollInterval = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// sqlitePollInterval is the default FetchPollInterval on SQLite. River wakes
// its fetcher on an insert only outside a transaction, and the queue
// inserts inside one (de-duplication), so on SQLite a new job waits for the
// next poll: at 1s that was half a second of every diff's latency on
// average (BENCHMARKS.md). A poll is one indexed query on a local file.
const sqlitePollInterval = 100 * time.Millisecond
