package queue

import (
	"context"
	"fmt"

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
	// before, or an identical job is already queued or running.
	Duplicate bool
	// Superseded is the job of an older head SHA that was cancelled.
	Superseded int64
}

// uniqueLive makes a diff unique while it waits or runs; once finished, the
// same SHA may be diffed again (a re-run asked by a person).
var uniqueLive = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// EnqueuePRDiff queues a diff of args.HeadSHA. A delivery seen before adds
// nothing. The SHA becomes the pull request's latest: jobs of older SHAs
// are cancelled, and they will not publish even if they finish.
func (q *Queue) EnqueuePRDiff(ctx context.Context, args PRDiffArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
	var res Enqueued
	opts := &river.InsertOpts{Queue: queueDiff, MaxAttempts: q.cfg.MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueLive}}
	err := q.store.InTx(ctx, func(tx *store.Tx) error {
		res = Enqueued{}
		if args.DeliveryID != "" {
			claimed, err := q.claim(ctx, tx, store.DeliveryKey(args.DeliveryID))
			if err != nil || !claimed {
				res.Duplicate = !claimed
				return err
			}
		}
		ins, err := q.engine.insertTx(ctx, tx, args, opts)
		if err != nil {
			return fmt.Errorf("queue: insert diff of %s#%d: %w", args.Repo, args.PR, err)
		}
		res.JobID, res.Duplicate = ins.Job.ID, ins.UniqueSkippedAsDuplicate
		prev, err := tx.SetHead(ctx, store.Head{Repo: args.Repo, PR: args.PR, SHA: args.HeadSHA, JobID: ins.Job.ID, Updated: q.cfg.Now()})
		if err != nil {
			return err
		}
		if prev.SHA != "" && prev.SHA != args.HeadSHA && prev.JobID != 0 {
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

// EnqueueCommand queues a Slack command. dedupKey (see
// store.SlackRequestKey) makes a retried request add nothing; empty skips
// de-duplication.
func (q *Queue) EnqueueCommand(ctx context.Context, dedupKey string, args CommandArgs) (Enqueued, error) {
	if err := args.validate(); err != nil {
		return Enqueued{}, err
	}
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
			return fmt.Errorf("queue: insert slack command: %w", err)
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
