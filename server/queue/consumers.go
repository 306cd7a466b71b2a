package queue

import (
	"context"
	"encoding/json"

	"github.com/fluxdiff/fluxdiff/server/store"
)

// PRJob is one run of a diff job, handed to the Runner.
type PRJob struct {
	PRDiffArgs
	// JobID is the queue's job ID; Attempt counts from 1.
	JobID   int64
	Attempt int
	// LastAttempt is true when a failure of this run is not retried: the
	// Runner should then report the failure as its result, so that the
	// pull request is told instead of left waiting.
	LastAttempt bool
	// Clusters bounds the work this process does on each cluster at once;
	// the Runner acquires a slot per cluster it talks to.
	Clusters *ClusterLimiter
}

// Result is what a Runner produced.
type Result struct {
	// MergeSHA is the commit that was built.
	MergeSHA string
	// Clusters are the clusters covered.
	Clusters []string
	// Report is the Report as JSON.
	Report json.RawMessage
}

// Runner turns a diff job into a report. Errors are retried unless
// permanent (see Permanent); ctx is cancelled when the job is superseded.
type Runner interface {
	RunPRDiff(ctx context.Context, job PRJob) (Result, error)
}

// Refs finds and records what was published, so that publishing again
// updates instead of adding. *store.Store satisfies it.
type Refs interface {
	PublishedRef(ctx context.Context, kind, key string) (store.PublishedRef, error)
	SavePublishedRef(ctx context.Context, ref store.PublishedRef) error
}

// Publisher shows a stored report (sticky PR comment, check run, Slack
// message). It must be idempotent: look up the existing reference in refs
// and update it; create and record one only when none exists.
type Publisher interface {
	Publish(ctx context.Context, rep store.Report, refs Refs) error
}

// SupersededHandler closes what a diff superseded by a newer push left
// open, such as its check run still in progress.
type SupersededHandler interface {
	// DiffSuperseded is called once the diff of args.HeadSHA has stopped
	// because the pull request's head is now newerSHA (never the same
	// SHA). It may be called more than once for one diff, and for a diff
	// that had not started anything; refs is where Publisher recorded
	// what it published. An error is logged, not retried.
	DiffSuperseded(ctx context.Context, args PRDiffArgs, newerSHA string, refs Refs) error
}

// CommandRunner runs a Slack command.
type CommandRunner interface {
	RunCommand(ctx context.Context, cmd CommandArgs) error
}

// CommentRunner handles a "/flux-diff" comment: it checks the author's
// permission, answers on the pull request, and queues the diff it asks for.
type CommentRunner interface {
	RunComment(ctx context.Context, c CommentArgs) error
}

// InteractionRunner acts on a button click. It answers the person itself;
// a Permanent error (e.g. after telling them to try again) ends the job,
// another is retried. A click that was queued or running when the process
// stopped runs again after a restart, so the runner should not repeat an
// effect it already had where that matters.
type InteractionRunner interface {
	RunInteraction(ctx context.Context, in InteractionArgs) error
}
