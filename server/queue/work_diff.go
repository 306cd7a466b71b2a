package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// errNotConfigured fails jobs whose handler is missing.
var errNotConfigured = errors.New("pipeline not configured yet")

// diffWorker runs a diff job: check the SHA is still the latest, run,
// save the report under the job's key, check again, publish.
type diffWorker struct {
	river.WorkerDefaults[PRDiffArgs]
	store    *store.Store
	h        Handlers
	log      *slog.Logger
	clusters *ClusterLimiter
}

// Work implements river.Worker.
func (w *diffWorker) Work(ctx context.Context, job *river.Job[PRDiffArgs]) error {
	a := job.Args
	log := w.log.With("job_id", job.ID, "attempt", job.Attempt, "delivery_id", a.DeliveryID,
		"installation_id", a.InstallationID, "repo", a.Repo, "pr", a.PR, "sha", a.HeadSHA)
	if err := a.validate(); err != nil {
		return w.fail(log, err)
	}
	if w.h.Runner == nil || w.h.Publisher == nil {
		return w.fail(log, Permanent(errNotConfigured))
	}
	if err := w.checkLatest(ctx, a); err != nil {
		return w.fail(log, err)
	}
	res, err := w.h.Runner.RunPRDiff(ctx, PRJob{PRDiffArgs: a, JobID: job.ID, Attempt: job.Attempt, Clusters: w.clusters})
	if err != nil {
		return w.fail(log, w.explain(ctx, a, err))
	}
	if err := w.checkLatest(ctx, a); err != nil {
		return w.fail(log, err)
	}
	rep := store.Report{JobKey: fmt.Sprintf("pr-diff:%d", job.ID), Repo: a.Repo, PR: a.PR, HeadSHA: a.HeadSHA,
		MergeSHA: res.MergeSHA, Clusters: res.Clusters, Body: res.Report}
	if rep.ID, err = w.store.SaveReport(ctx, rep); err != nil {
		return w.fail(log, err)
	}
	if rep, err = w.store.Report(ctx, rep.ID); err != nil {
		return w.fail(log, err)
	}
	// Last check: a push that arrived while the diff ran wins.
	if err := w.checkLatest(ctx, a); err != nil {
		return w.fail(log, err)
	}
	if err := w.h.Publisher.Publish(ctx, rep, w.store); err != nil {
		return w.fail(log, err)
	}
	log.Info("diff published", "report_id", rep.ID)
	return nil
}

// checkLatest returns ErrSuperseded when a newer head SHA was pushed.
func (w *diffWorker) checkLatest(ctx context.Context, a PRDiffArgs) error {
	h, err := w.store.Head(ctx, a.Repo, a.PR)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.SHA != a.HeadSHA {
		return fmt.Errorf("%w (%s is now at %s)", ErrSuperseded, a.Repo, h.SHA)
	}
	return nil
}

// explain turns the error of a run cancelled by a newer push into
// ErrSuperseded, so that logs say why.
func (w *diffWorker) explain(ctx context.Context, a PRDiffArgs, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if serr := w.checkLatest(context.WithoutCancel(ctx), a); errors.Is(serr, ErrSuperseded) {
		return serr
	}
	return err
}

// fail maps err to river: superseded and permanent errors end the job
// without retry, others retry with backoff.
func (w *diffWorker) fail(log *slog.Logger, err error) error {
	switch {
	case errors.Is(err, ErrSuperseded):
		log.Info("diff superseded; not publishing", "reason", err.Error())
		return river.JobCancel(err)
	case IsPermanent(err):
		log.Error("diff failed permanently", "error", err.Error())
		return river.JobCancel(err)
	default:
		log.Warn("diff failed; will retry", "error", err.Error())
		return err
	}
}
