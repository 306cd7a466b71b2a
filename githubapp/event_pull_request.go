package githubapp

import (
	"context"
	"fmt"

	"github.com/google/go-github/v55/github"
)

// pullRequest handles a pull_request delivery: opened, synchronize,
// reopened and ready_for_review queue a diff of the head, and so does
// edited when it moved the pull request to another base branch (the merge
// result changes with the base); an edit of the title or body queues
// nothing. closed cancels the pull request's work. Drafts wait for
// ready_for_review when SkipDrafts is set; fork pull requests are diffed
// only with AllowForks.
func (h *webhookHandler) pullRequest(ctx context.Context, d delivery) (outcome, error) {
	ev, err := parse[github.PullRequestEvent](d)
	if err != nil {
		return ignored, err
	}
	pr := ev.GetPullRequest()
	repo := ev.GetRepo().GetFullName()
	action := ev.GetAction()
	log := d.log.With("repo", repo, "pr", pr.GetNumber(), "action", action)
	if repo == "" || pr.GetNumber() == 0 {
		return ignored, fmt.Errorf("%w: pull_request without repository or number", errBadPayload)
	}
	switch action {
	case "closed":
		if err := h.opts.Dispatcher.CancelPR(ctx, d.id, repo, pr.GetNumber()); err != nil {
			return ignored, fmt.Errorf("cancel %s#%d: %w", repo, pr.GetNumber(), err)
		}
		log.Debug("pull request closed: work cancelled")
		return accepted, nil
	case "opened", "synchronize", "reopened", "ready_for_review":
	case "edited":
		// GitHub sends changes.base.ref.from only when the base branch
		// changed ("pull_request" webhook, action edited).
		if ev.GetChanges().GetBase().GetRef().GetFrom() == "" {
			log.Debug("pull request edit ignored: the base branch is the same")
			return ignored, nil
		}
	default:
		log.Debug("pull request action ignored")
		return ignored, nil
	}
	if pr.GetDraft() && h.opts.SkipDrafts && action != "ready_for_review" {
		log.Debug("draft pull request skipped (github.skipDrafts)")
		return ignored, nil
	}
	if isFork(pr) && !h.opts.AllowForks {
		// Telling the author would take API calls (a check run); the
		// webhook path makes none, so the log is the only trace.
		log.Debug("fork pull request not diffed (github.allowForks is off)",
			"head_repo", pr.GetHead().GetRepo().GetFullName())
		return ignored, nil
	}
	req := DiffRequest{
		DeliveryID:     d.id,
		InstallationID: ev.GetInstallation().GetID(),
		Repo:           repo,
		PR:             pr.GetNumber(),
		HeadSHA:        pr.GetHead().GetSHA(),
		Trigger:        "pull_request." + action,
	}
	if err := h.opts.Dispatcher.DiffPR(ctx, req); err != nil {
		return ignored, fmt.Errorf("queue diff of %s#%d: %w", repo, req.PR, err)
	}
	log.Debug("diff queued", "sha", req.HeadSHA)
	return accepted, nil
}

// isFork reports whether pr's head lives in another repository than its
// base. A deleted fork leaves head.repo null: that counts as a fork.
func isFork(pr *github.PullRequest) bool {
	head, base := pr.GetHead().GetRepo(), pr.GetBase().GetRepo()
	if head == nil || base == nil {
		return true
	}
	if head.GetID() != 0 && base.GetID() != 0 {
		return head.GetID() != base.GetID()
	}
	return head.GetFullName() != base.GetFullName()
}
