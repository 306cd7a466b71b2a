package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// GitHubDispatcher queues what verified GitHub webhooks ask for. It
// implements githubapp.Dispatcher.
type GitHubDispatcher struct {
	Queue *queue.Queue
}

// DiffPR queues a pull request diff (a delivery seen before adds nothing).
func (d GitHubDispatcher) DiffPR(ctx context.Context, r githubapp.DiffRequest) error {
	_, err := d.Queue.EnqueuePRDiff(ctx, queue.PRDiffArgs{
		InstallationID: r.InstallationID, Repo: r.Repo, PR: r.PR, HeadSHA: r.HeadSHA, DeliveryID: r.DeliveryID,
		Trigger: r.Trigger, RequestedBy: r.RequestedBy, Rerun: mustRunAgain(r.Trigger),
		Only: queue.Filter{Kustomization: r.Filter.Kustomization, Namespace: r.Filter.Namespace, Cluster: r.Filter.Cluster},
	})
	return err
}

// mustRunAgain reports whether a request made by trigger must be diffed
// even while a job of the same head is queued or running: a person asked
// (a re-run, a comment), or the base branch changed (pull_request.edited),
// which changes the merge result that job is building.
func mustRunAgain(trigger string) bool {
	return trigger == "pull_request.edited" || !strings.HasPrefix(trigger, "pull_request.")
}

// CancelPR cancels the queued or running diff of a closed pull request.
func (d GitHubDispatcher) CancelPR(ctx context.Context, deliveryID, repo string, pr int) error {
	_, err := d.Queue.CancelPR(ctx, deliveryID, repo, pr)
	return err
}

// Comment queues a "/flux-diff" comment.
func (d GitHubDispatcher) Comment(ctx context.Context, c githubapp.CommentCommand) error {
	_, err := d.Queue.EnqueueComment(ctx, queue.CommentArgs{
		DeliveryID: c.DeliveryID, InstallationID: c.InstallationID, Repo: c.Repo, PR: c.PR,
		CommentID: c.CommentID, User: c.User, Body: c.Body,
	})
	return err
}

// CommentHandler is what GitHubComments needs of the App.
type CommentHandler interface {
	HandleComment(ctx context.Context, cmd githubapp.CommentCommand) (*githubapp.DiffRequest, error)
}

// GitHubComments handles queued "/flux-diff" comments: the App checks the
// author's permission and answers; an allowed request is queued as a diff.
// It implements queue.CommentRunner.
type GitHubComments struct {
	App   CommentHandler
	Queue *queue.Queue
}

// RunComment implements queue.CommentRunner.
func (g GitHubComments) RunComment(ctx context.Context, c queue.CommentArgs) error {
	req, err := g.App.HandleComment(ctx, githubapp.CommentCommand{
		DeliveryID: c.DeliveryID, InstallationID: c.InstallationID, Repo: c.Repo, PR: c.PR,
		CommentID: c.CommentID, User: c.User, Body: c.Body,
	})
	if err != nil || req == nil {
		return err
	}
	req.DeliveryID = "" // the comment's delivery is already claimed
	return GitHubDispatcher{Queue: g.Queue}.DiffPR(ctx, *req)
}

// ReportPublisher is what GitHubPublisher needs of the App.
type ReportPublisher interface {
	Publish(ctx context.Context, rep *diff.Report, reportID int64, refs githubapp.Refs) error
}

// GitHubPublisher publishes stored reports as a check run and the sticky
// pull request comment. It implements queue.Publisher.
type GitHubPublisher struct {
	App ReportPublisher
}

// Publish implements queue.Publisher.
func (g GitHubPublisher) Publish(ctx context.Context, rep store.Report, refs queue.Refs) error {
	var r diff.Report
	if err := json.Unmarshal(rep.Body, &r); err != nil {
		return queue.Permanent(fmt.Errorf("report %d is not a diff report: %w", rep.ID, err))
	}
	if r.PullRequest == nil {
		return queue.Permanent(fmt.Errorf("report %d names no pull request", rep.ID))
	}
	err := g.App.Publish(ctx, &r, rep.ID, StoreRefs{Refs: refs})
	if err != nil && allPermanent(err) {
		return queue.Permanent(err)
	}
	return err
}

// allPermanent reports whether every error joined in err is GitHub
// refusing for good: a comment refused for good must not keep a check run
// that failed for a passing reason from being retried.
func allPermanent(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return githubapp.IsPermanent(err)
	}
	for _, e := range j.Unwrap() {
		if e != nil && !allPermanent(e) {
			return false
		}
	}
	return true
}

// CheckSkipper is what GitHubSuperseded needs of the App.
type CheckSkipper interface {
	SkipCheck(ctx context.Context, installationID int64, repo, headSHA, newerSHA string, refs githubapp.Refs) error
}

// GitHubSuperseded completes the check run that a diff superseded by a
// newer push left queued or in progress (githubapp.SupersededConclusion,
// naming the newer head). It implements queue.SupersededHandler.
type GitHubSuperseded struct {
	App CheckSkipper
}

// DiffSuperseded implements queue.SupersededHandler.
func (g GitHubSuperseded) DiffSuperseded(ctx context.Context, a queue.PRDiffArgs, newerSHA string, refs queue.Refs) error {
	return g.App.SkipCheck(ctx, a.InstallationID, a.Repo, a.HeadSHA, newerSHA, StoreRefs{Refs: refs})
}

// StoreRefs adapts the store's published references to githubapp.Refs.
type StoreRefs struct {
	Refs queue.Refs
}

// Ref implements githubapp.Refs.
func (s StoreRefs) Ref(ctx context.Context, kind, key string) (string, bool, error) {
	r, err := s.Refs.PublishedRef(ctx, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return r.ExternalID, true, nil
}

// SaveRef implements githubapp.Refs.
func (s StoreRefs) SaveRef(ctx context.Context, kind, key, externalID string, reportID int64) error {
	return s.Refs.SavePublishedRef(ctx, store.PublishedRef{Kind: kind, Key: key, ExternalID: externalID, ReportID: reportID})
}
