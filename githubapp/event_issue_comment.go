package githubapp

import (
	"context"
	"fmt"

	"github.com/google/go-github/v55/github"
)

// issueComment handles an issue_comment delivery: a new comment on a pull
// request whose first word is /flux-diff goes to Dispatcher.Comment as it
// is; the author's permission is asked later, off this path (see
// App.HandleComment). Comments by bots are ignored, so no App, fluxdiff
// included, can make fluxdiff answer itself.
func (h *webhookHandler) issueComment(ctx context.Context, d delivery) (outcome, error) {
	ev, err := parse[github.IssueCommentEvent](d)
	if err != nil {
		return ignored, err
	}
	issue, c := ev.GetIssue(), ev.GetComment()
	repo := ev.GetRepo().GetFullName()
	log := d.log.With("repo", repo, "pr", issue.GetNumber(), "action", ev.GetAction())
	switch {
	case ev.GetAction() != "created":
		log.Debug("comment action ignored")
		return ignored, nil
	case !issue.IsPullRequest():
		log.Debug("comment on an issue, not a pull request: ignored")
		return ignored, nil
	case !IsCommand(c.GetBody()):
		log.Debug("comment is not a /flux-diff command")
		return ignored, nil
	case c.GetUser().GetType() == "Bot":
		log.Debug("command by a bot ignored", "user", c.GetUser().GetLogin())
		return ignored, nil
	}
	if repo == "" || issue.GetNumber() == 0 || c.GetID() == 0 {
		return ignored, fmt.Errorf("%w: issue_comment without repository, number or comment ID", errBadPayload)
	}
	cmd := CommentCommand{
		DeliveryID:     d.id,
		InstallationID: ev.GetInstallation().GetID(),
		Repo:           repo,
		PR:             issue.GetNumber(),
		CommentID:      c.GetID(),
		User:           c.GetUser().GetLogin(),
		Body:           c.GetBody(),
	}
	if err := h.opts.Dispatcher.Comment(ctx, cmd); err != nil {
		return ignored, fmt.Errorf("queue comment %d on %s#%d: %w", cmd.CommentID, repo, cmd.PR, err)
	}
	log.Debug("comment command queued", "user", cmd.User)
	return accepted, nil
}
