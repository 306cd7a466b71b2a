package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// Enqueued tells what an enqueue did.
type Enqueued struct {
	// JobID is the job that will do the work: the new one, or the existing
	// identical one. Zero for a duplicate delivery.
	JobID int64
	// Duplicate is true when nothing was added: the delivery was seen
	// before, or the job of the same head is already queued or running.
	Duplicate bool
	// Superseded is the job of an older head SHA that was cancelled.
	Superseded int64
}

// liveStates are the states of a job that will still run or is running.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// EnqueuePRDiff queues a diff of args.HeadSHA. A delivery seen before adds
// nothing, and neither does a request for the SHA whose job is the pull
// request's head and still queued or running. The SHA becomes the pull
// request's latest: jobs of older SHAs are cancelled, and they will not
// publish even if they finish.
//
// De-duplication goes by the pull request's head row, locked for the
// transaction, rather than river's unique jobs: river requires "running"
// among the unique states, so after A, B and A again (a force-push back)
// the new request would be attached to A's first job, which B's push is
// cancelling, and A would never be diffed again.
func (q *Queue) EnqueuePRDiff(ctx context.Context, args PRDiffArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
	var res Enqueued
	opts := &river.InsertOpts{Queue: queueDiff, MaxAttempts: q.cfg.MaxAttempts}
	err := q.store.InTx(ctx, func(tx *store.Tx) error {
		res = Enqueued{}
		if args.DeliveryID != "" {
			claimed, err := q.claim(ctx, tx, store.DeliveryKey(args.DeliveryID))
			if err != nil || !claimed {
				res.Duplicate = !claimed
				return err
			}
		}
		prev, err := tx.LockHead(ctx, args.Repo, args.PR)
		if err != nil {
			return err
		}
		live, err := q.headIsLive(ctx, tx, prev, args.HeadSHA)
		if err != nil || (live && !args.Rerun) {
			res = Enqueued{JobID: prev.JobID, Duplicate: live}
			return err
		}
		if args.Supersedes, err = q.waitingHead(ctx, tx, prev, args.HeadSHA); err != nil {
			return err
		}
		ins, err := q.engine.insertTx(ctx, tx, args, opts)
		if err != nil {
			return fmt.Errorf("queue: insert diff of %s#%d: %w", args.Repo, args.PR, err)
		}
		res.JobID = ins.Job.ID
		if _, err := tx.SetHead(ctx, store.Head{Repo: args.Repo, PR: args.PR, SHA: args.HeadSHA, JobID: ins.Job.ID, Updated: q.cfg.Now()}); err != nil {
			return err
		}
		if prev.JobID != 0 && (prev.SHA != args.HeadSHA || live) {
			res.Superseded = prev.JobID
		}
		return nil
	})
	if err != nil {
		return Enqueued{}, err
	}
	if res.Superseded != 0 {
		// After the commit, so that the cancelled job sees the new head. If
		// this fails, the worker's own check still keeps it from publishing.
		if err := q.engine.cancel(ctx, res.Superseded); err != nil {
			q.log.Warn("cancel superseded diff", "job_id", res.Superseded, "repo", args.Repo, "pr", args.PR, "error", err.Error())
		}
	}
	return res, nil
}

// headIsLive reports whether head is at sha with a job that is queued or
// running: a request for it adds nothing.
func (q *Queue) headIsLive(ctx context.Context, tx *store.Tx, head store.Head, sha string) (bool, error) {
	if head.SHA != sha || head.JobID == 0 {
		return false, nil
	}
	j, err := q.engine.jobTx(ctx, tx, head.JobID)
	if errors.Is(err, river.ErrNotFound) {
		return false, nil // finished long ago and cleaned up
	}
	if err != nil {
		return false, fmt.Errorf("queue: job %d: %w", head.JobID, err)
	}
	return slices.Contains(liveStates, j.State), nil
}

// waitingStates are the states of a job that has not finished but is not
// running: queued, or waiting to be retried.
var waitingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// waitingHead returns head's SHA when its job ran before and now waits to
// run again, and sha is another commit: that job is about to be cancelled
// without running, so the job of sha closes what it left open (see
// PRDiffArgs.Supersedes). A job that never ran passes on its own
// Supersedes; a running job closes its own. "" otherwise.
func (q *Queue) waitingHead(ctx context.Context, tx *store.Tx, head store.Head, sha string) (string, error) {
	if head.JobID == 0 || head.SHA == sha {
		return "", nil
	}
	j, err := q.engine.jobTx(ctx, tx, head.JobID)
	if errors.Is(err, river.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("queue: job %d: %w", head.JobID, err)
	}
	if !slices.Contains(waitingStates, j.State) {
		return "", nil
	}
	if j.Attempt == 0 {
		// It never ran, so it left nothing open; but it may carry the
		// commit that an older waiting job of its own left (A retrying,
		// then B and C pushed before B ran).
		var args PRDiffArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			return "", fmt.Errorf("queue: job %d: %w", head.JobID, err)
		}
		if args.Supersedes == sha {
			return "", nil
		}
		return args.Supersedes, nil
	}
	return head.SHA, nil
}

// EnqueueCommand queues a Slack command. dedupKey (see
// store.SlackRequestKey) makes a retried request add nothing; empty skips
// de-duplication.
func (q *Queue) EnqueueCommand(ctx context.Context, dedupKey string, args CommandArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
	return q.insertOnce(ctx, dedupKey, args, "slack command")
}

// EnqueueInteraction queues a Slack button click. dedupKey (e.g. the
// click's trigger ID) makes a request Slack sends again add nothing;
// empty skips de-duplication.
func (q *Queue) EnqueueInteraction(ctx context.Context, dedupKey string, args InteractionArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
	return q.insertOnce(ctx, dedupKey, args, "slack interaction")
}

// insertOnce inserts args into the command queue unless dedupKey was
// claimed before; what names the job in errors.
func (q *Queue) insertOnce(ctx context.Context, dedupKey string, args river.JobArgs, what string) (Enqueued, error) {
	var res Enqueued
	err := q.store.InTx(ctx, func(tx *store.Tx) error {
		res = Enqueued{}
		if dedupKey != "" {
			claimed, err := q.claim(ctx, tx, dedupKey)
			if err != nil || !claimed {
				res.Duplicate = !claimed
				return err
			}
		}
		ins, err := q.engine.insertTx(ctx, tx, args, &river.InsertOpts{Queue: queueCommand, MaxAttempts: q.cfg.MaxAttempts})
		if err != nil {
			return fmt.Errorf("queue: insert %s: %w", what, err)
		}
		res.JobID = ins.Job.ID
		return nil
	})
	if err != nil {
		return Enqueued{}, err
	}
	return res, nil
}

func (q *Queue) claim(ctx context.Context, tx *store.Tx, key string) (bool, error) {
	now := q.cfg.Now()
	return tx.ClaimDelivery(ctx, key, now, now.Add(q.cfg.DedupTTL))
}

// EnqueueComment queues a "/flux-diff" comment; a delivery seen before adds
// nothing.
func (q *Queue) EnqueueComment(ctx context.Context, args CommentArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
	key := ""
	if args.DeliveryID != "" {
		key = store.DeliveryKey(args.DeliveryID)
	}
	return q.insertOnce(ctx, key, args, fmt.Sprintf("comment of %s#%d", args.Repo, args.PR))
}

// CancelPR cancels the queued or running diff of a closed pull request. It
// returns the cancelled job's ID, or 0 when there was none; a delivery seen
// before does nothing. The head row stays, so a reopened pull request is
// diffed again.
func (q *Queue) CancelPR(ctx context.Context, deliveryID, repo string, pr int) (int64, error) {
	var jobID int64
	err := q.store.InTx(ctx, func(tx *store.Tx) error {
		jobID = 0
		if deliveryID != "" {
			claimed, err := q.claim(ctx, tx, store.DeliveryKey(deliveryID))
			if err != nil || !claimed {
				return err
			}
		}
		h, err := tx.LockHead(ctx, repo, pr)
		if err != nil || h.JobID == 0 {
			return err
		}
		live, err := q.headIsLive(ctx, tx, h, h.SHA)
		if live {
			jobID = h.JobID
		}
		return err
	})
	if err != nil || jobID == 0 {
		return 0, err
	}
	if err := q.engine.cancel(ctx, jobID); err != nil {
		return 0, fmt.Errorf("queue: cancel diff of %s#%d: %w", repo, pr, err)
	}
	return jobID, nil
}
