package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// errNotConfigured fails jobs whose handler is missing.
var errNotConfigured = errors.New("pipeline not configured yet")

// diffWorker runs a diff job: check the job is still the pull request's
// head, run, check again, save the report under the job's key, claim the
// publication (the last check, recorded atomically), publish. A diff
// that a newer commit superseded, its own or an older one it replaced
// while that waited to retry (PRDiffArgs.Supersedes), goes to
// Handlers.Superseded.
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
	if a.Supersedes != "" && a.Supersedes != a.HeadSHA {
		w.supersede(ctx, log, PRDiffArgs{InstallationID: a.InstallationID, Repo: a.Repo, PR: a.PR, HeadSHA: a.Supersedes}, a.HeadSHA)
	}
	err := w.work(ctx, job, log)
	if errors.Is(err, ErrSuperseded) {
		w.closeSuperseded(ctx, log, a)
	}
	if err != nil {
		return w.fail(log, err)
	}
	return nil
}

// work runs, saves and publishes the diff; the error is for fail.
func (w *diffWorker) work(ctx context.Context, job *river.Job[PRDiffArgs], log *slog.Logger) error {
	a := job.Args
	if err := w.checkLatest(ctx, a, job.ID); err != nil {
		return err
	}
	res, err := w.h.Runner.RunPRDiff(ctx, PRJob{PRDiffArgs: a, JobID: job.ID, Attempt: job.Attempt, LastAttempt: job.Attempt >= job.MaxAttempts, Clusters: w.clusters})
	if err != nil {
		return w.explain(ctx, a, job.ID, err)
	}
	if err := w.checkLatest(ctx, a, job.ID); err != nil {
		return err
	}
	rep := store.Report{JobKey: fmt.Sprintf("pr-diff:%d", job.ID), Repo: a.Repo, PR: a.PR, HeadSHA: a.HeadSHA,
		MergeSHA: res.MergeSHA, Clusters: res.Clusters, Body: res.Report}
	if rep.ID, err = w.store.SaveReport(ctx, rep); err != nil {
		return err
	}
	if rep, err = w.store.Report(ctx, rep.ID); err != nil {
		return err
	}
	// Last check: a push that arrived while the diff ran wins. The check
	// and the record of what is published are one statement, so of two
	// diffs of one pull request only the later push's gets past it.
	//
	// What remains: a push right after the claim cancels ctx, which aborts
	// the publisher's calls still to be made; but a call already on its way
	// could in theory land after the newer diff's own publication, which
	// comes only after that diff has run in full.
	if err := w.store.ClaimPublish(ctx, a.Repo, a.PR, a.HeadSHA, job.ID); err != nil {
		if errors.Is(err, store.ErrNotHead) {
			err = fmt.Errorf("%w (%w)", ErrSuperseded, err)
		}
		return err
	}
	if err := w.h.Publisher.Publish(ctx, rep, w.store); err != nil {
		return w.explain(ctx, a, job.ID, err)
	}
	log.Info("diff published", "report_id", rep.ID)
	return nil
}

// supersededTimeout bounds closing what a superseded diff left open; it
// runs after the job's own context may have been cancelled.
const supersededTimeout = 30 * time.Second

// closeSuperseded hands a diff that a newer push superseded to
// Handlers.Superseded, so that its check run does not stay in progress.
// A diff superseded by the same SHA again (a re-run, a force-push back)
// is left alone: the newer job owns that commit's check run. Failures are
// logged; the job ends either way.
func (w *diffWorker) closeSuperseded(ctx context.Context, log *slog.Logger, a PRDiffArgs) {
	if w.h.Superseded == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), supersededTimeout)
	defer cancel()
	h, err := w.store.Head(ctx, a.Repo, a.PR)
	if err != nil {
		log.Warn("superseded diff: cannot read the pull request's head", "error", err.Error())
		return
	}
	if h.SHA == a.HeadSHA {
		return
	}
	w.supersede(ctx, log, a, h.SHA)
}

// supersede hands old, superseded by newerSHA, to Handlers.Superseded.
func (w *diffWorker) supersede(ctx context.Context, log *slog.Logger, old PRDiffArgs, newerSHA string) {
	if w.h.Superseded == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), supersededTimeout)
	defer cancel()
	if err := w.h.Superseded.DiffSuperseded(ctx, old, newerSHA, w.store); err != nil {
		log.Warn("superseded diff: cannot close its check run", "superseded_sha", old.HeadSHA, "newer_sha", newerSHA, "error", err.Error())
	}
}

// checkLatest returns ErrSuperseded when the pull request's head is no
// longer this job: a newer SHA was pushed, or the same SHA again after
// another (a force-push back), which a new job diffs.
func (w *diffWorker) checkLatest(ctx context.Context, a PRDiffArgs, jobID int64) error {
	h, err := w.store.Head(ctx, a.Repo, a.PR)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.SHA != a.HeadSHA || (h.JobID != 0 && h.JobID != jobID) {
		return fmt.Errorf("%w (%s#%d is now at %s, job %d)", ErrSuperseded, a.Repo, a.PR, h.SHA, h.JobID)
	}
	return nil
}

// explain says why a run was cancelled, so that logs and river agree: a
// newer push (ErrSuperseded) or another remote cancellation, neither of
// which is retried.
func (w *diffWorker) explain(ctx context.Context, a PRDiffArgs, jobID int64, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if serr := w.checkLatest(context.WithoutCancel(ctx), a, jobID); errors.Is(serr, ErrSuperseded) {
		return serr
	}
	if cause := context.Cause(ctx); errors.Is(cause, river.ErrJobCancelledRemotely) {
		return fmt.Errorf("%w: %w", cause, err)
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
	case errors.Is(err, river.ErrJobCancelledRemotely):
		log.Info("diff cancelled", "reason", err.Error())
		return river.JobCancel(err)
	case IsPermanent(err):
		log.Error("diff failed permanently", "error", err.Error())
		return river.JobCancel(err)
	default:
		log.Warn("diff failed; will retry", "error", err.Error())
		return err
	}
}
