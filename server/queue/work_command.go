package queue

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
)

// commandWorker runs a Slack command through the CommandRunner.
type commandWorker struct {
	river.WorkerDefaults[CommandArgs]
	h   Handlers
	log *slog.Logger
}

// Work implements river.Worker.
func (w *commandWorker) Work(ctx context.Context, job *river.Job[CommandArgs]) error {
	a := job.Args
	log := w.log.With("job_id", job.ID, "attempt", job.Attempt, "team_id", a.TeamID, "channel_id", a.ChannelID, "user_id", a.UserID)
	err := a.validate()
	if err == nil && w.h.Commands == nil {
		err = Permanent(errNotConfigured)
	}
	if err == nil {
		err = w.h.Commands.RunCommand(ctx, a)
	}
	switch {
	case err == nil:
		log.Info("slack command done")
		return nil
	case IsPermanent(err):
		log.Error("slack command failed permanently", "error", err.Error())
		return river.JobCancel(err)
	default:
		log.Warn("slack command failed; will retry", "error", err.Error())
		return err
	}
}
