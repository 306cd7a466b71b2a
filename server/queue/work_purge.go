package queue

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// PurgeArgs asks to delete the expired de-duplication keys of deliveries and
// Slack requests. The queue's leader inserts one every Config.PurgeInterval.
type PurgeArgs struct{}

// Kind is the river job kind.
func (PurgeArgs) Kind() string { return "purge_delivery_keys" }

// purgeJob is the periodic job that inserts PurgeArgs, on start and then
// every interval.
func purgeJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return PurgeArgs{}, &river.InsertOpts{Queue: queueMaintenance}
		},
		&river.PeriodicJobOpts{ID: PurgeArgs{}.Kind(), RunOnStart: true})
}

// purgeWorker deletes the delivery keys that expired.
type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	store *store.Store
	now   func() time.Time
	log   *slog.Logger
}

// Work implements river.Worker.
func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	n, err := w.store.PurgeDeliveries(ctx, w.now())
	if err != nil {
		w.log.Warn("purge of expired delivery keys failed; will retry", "job_id", job.ID, "error", err.Error())
		return fmt.Errorf("queue: purge delivery keys: %w", err)
	}
	w.log.Info("purged expired delivery keys", "job_id", job.ID, "deleted", n)
	return nil
}
