package queue

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
)

// commentWorker runs a "/flux-diff" pull request comment through the
// CommentRunner. It shares the command queue: both are short jobs that
// answer a person.
type commentWorker struct {
	river.WorkerDefaults[CommentArgs]
	h   Handlers
	log *slog.Logger
}

// Work implements river.Worker.
func (w *commentWorker) Work(ctx context.Context, job *river.Job[CommentArgs]) error {
	a := job.Args
	log := w.log.With("job_id", job.ID, "attempt", job.Attempt, "delivery_id", a.DeliveryID,
		"installation_id", a.InstallationID, "repo", a.Repo, "pr", a.PR, "user", a.User)
	err := a.validate()
	if err == nil && w.h.Comments == nil {
		err = Permanent(errNotConfigured)
	}
	if err == nil {
		err = w.h.Comments.RunComment(ctx, a)
	}
	switch {
	case err == nil:
		log.Info("pull request comment handled")
		return nil
	case IsPermanent(err):
		log.Error("pull request comment failed permanently", "error", err.Error())
		return river.JobCancel(err)
	default:
		log.Warn("pull request comment failed; will retry", "error", err.Error())
		return err
	}
}
