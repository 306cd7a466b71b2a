package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// SlackGitHub is what the Slack glue needs of the GitHub App: the App
// client (to find a repository's installation), installation clients, and
// the sticky comment. *githubapp.App satisfies it.
type SlackGitHub interface {
	AppClient() *github.Client
	Installation(id int64) (*github.Client, error)
	InstallationHTTPClient(id int64) (*http.Client, error)
	PostComment(ctx context.Context, rep *diff.Report, reportID int64, refs githubapp.Refs) error
}

// SlackStore is what the Slack glue needs of the store. *store.Store
// satisfies it.
type SlackStore interface {
	queue.Refs
	SaveReport(ctx context.Context, r store.Report) (int64, error)
	Report(ctx context.Context, id int64) (store.Report, error)
	RecordApproval(ctx context.Context, a store.Approval) (int64, error)
}

// Slack runs `/flux-diff` commands (it implements queue.CommandRunner) and
// acts on the report buttons (queue.InteractionRunner). Reports live in the
// store, so buttons work after a restart and on any replica.
type Slack struct {
	// Chat posts to Slack.
	Chat *chat.Client
	// Store keeps reports, published references and the approval audit.
	Store SlackStore
	// GitHub is the GitHub App.
	GitHub SlackGitHub
	// Pipeline gives the index, the source cache, the clusters and the
	// diff; its GitHub field is not used.
	Pipeline *Pipeline
	// Approvers are the Slack user IDs and user group IDs (S…) allowed to
	// approve; empty allows nobody.
	Approvers []string
	// GitHubLogins maps Slack user IDs to GitHub logins: a pull request's
	// author may not approve it.
	GitHubLogins map[string]string
	// ReportTTL is how long buttons work after a report was made (default
	// 30 days).
	ReportTTL time.Duration
	// AllowForks lets commands diff pull requests from forks, whose
	// content is untrusted (github.allowForks).
	AllowForks bool
	// Logger receives problems; nil discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (s *Slack) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Slack) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Slack) reportTTL() time.Duration {
	if s.ReportTTL <= 0 {
		return 30 * 24 * time.Hour
	}
	return s.ReportTTL
}

// SlackQueue queues `/flux-diff` commands and button clicks. It
// implements chat.CommandQueue and chat.InteractionQueue.
type SlackQueue struct {
	Queue *queue.Queue
}

// EnqueueCommand implements chat.CommandQueue. The trigger ID, unique per
// invocation, de-duplicates a request Slack sends twice.
func (q SlackQueue) EnqueueCommand(ctx context.Context, req chat.CommandRequest) error {
	key := ""
	if req.TriggerID != "" {
		key = "slack:trigger:" + req.TeamID + ":" + req.TriggerID
	}
	_, err := q.Queue.EnqueueCommand(ctx, key, queue.CommandArgs{
		TeamID: req.TeamID, ChannelID: req.ChannelID, UserID: req.UserID, Text: req.Text, ResponseURL: req.ResponseURL,
	})
	return err
}

// EnqueueInteraction implements chat.InteractionQueue: the click becomes a
// durable job, so that it is done even if this process stops first. The
// trigger ID de-duplicates a request Slack sends twice (without one, the
// action's timestamp and the user do).
func (q SlackQueue) EnqueueInteraction(ctx context.Context, in chat.Interaction) error {
	key := ""
	switch {
	case in.TriggerID != "":
		key = "slack:trigger:" + in.TeamID + ":" + in.TriggerID
	case in.ActionTS != "":
		key = "slack:action:" + in.TeamID + ":" + in.UserID + ":" + in.ActionTS
	}
	blocks, err := chat.EncodeBlocks(in.Blocks)
	if err != nil {
		return err
	}
	_, err = q.Queue.EnqueueInteraction(ctx, key, queue.InteractionArgs{
		Action: in.Action, ReportID: in.ReportID, TeamID: in.TeamID, UserID: in.UserID, UserName: in.UserName,
		ChannelID: in.Message.Channel, MessageTS: in.Message.TS, Blocks: blocks, ResponseURL: in.ResponseURL,
	})
	return err
}

// Publishers publishes a report with each publisher in turn (e.g. GitHub,
// then Slack); every one is tried and their errors are joined. Each is
// idempotent, so a retry after a partial failure repeats nothing.
type Publishers []queue.Publisher

// Publish implements queue.Publisher.
func (ps Publishers) Publish(ctx context.Context, rep store.Report, refs queue.Refs) error {
	var errs []error
	for _, p := range ps {
		if err := p.Publish(ctx, rep, refs); err != nil {
			errs = append(errs, err)
		}
	}
	return joinPermanent(errs)
}

// joinPermanent joins errs; the result is permanent only when every error
// is, so that a retry happens when any publisher may still succeed.
func joinPermanent(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	all := true
	for _, e := range errs {
		all = all && queue.IsPermanent(e)
	}
	if all {
		return queue.Permanent(errors.Join(errs...))
	}
	return retryableError{errors.Join(errs...)}
}

// retryableError hides the permanent marks of the errors it holds (its
// text keeps them all), so that the job is retried.
type retryableError struct{ err error }

func (e retryableError) Error() string { return e.err.Error() }
