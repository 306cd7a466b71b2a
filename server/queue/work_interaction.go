package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// interactionTimeout bounds one button click: a person is waiting for it.
const interactionTimeout = 2 * time.Minute

// interactionWorker runs a Slack button click through the
// InteractionRunner. It shares the command queue: both are short jobs
// that answer a person.
type interactionWorker struct {
	river.WorkerDefaults[InteractionArgs]
	h   Handlers
	log *slog.Logger
}

// Timeout implements river.Worker: a click is bounded more tightly than a
// diff.
func (w *interactionWorker) Timeout(*river.Job[InteractionArgs]) time.Duration {
	return interactionTimeout
}

// Work implements river.Worker.
func (w *interactionWorker) Work(ctx context.Context, job *river.Job[InteractionArgs]) error {
	a := job.Args
	log := w.log.With("job_id", job.ID, "attempt", job.Attempt, "action", a.Action, "report_id", a.ReportID,
		"team_id", a.TeamID, "channel_id", a.ChannelID, "user_id", a.UserID)
	err := a.validate()
	if err == nil && w.h.Interactions == nil {
		err = Permanent(errNotConfigured)
	}
	if err == nil {
		err = w.h.Interactions.RunInteraction(ctx, a)
	}
	switch {
	case err == nil:
		log.Info("slack interaction done")
		return nil
	case IsPermanent(err):
		log.Error("slack interaction failed permanently", "error", err.Error())
		return river.JobCancel(err)
	default:
		log.Warn("slack interaction failed; will retry", "error", err.Error())
		return err
	}
}
