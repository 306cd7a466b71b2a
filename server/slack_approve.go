package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// Outcomes of an approval attempt, as the audit trail records them.
const (
	ApprovalApproved  = "approved"
	ApprovalDenied    = "denied"
	ApprovalAuthor    = "author"
	ApprovalStaleSHA  = "stale-sha"
	ApprovalPRClosed  = "closed"
	approvalSourceKey = "slack"
)

// approve submits a GitHub review APPROVE at the report's head commit for
// a Slack user allowed to (slack.approvers), unless they wrote the pull
// request (slack.githubLogins) or it changed since the diff. Every
// attempt is audited; a success updates the message to say who approved
// and removes the button.
func (s *Slack) approve(ctx context.Context, in chat.Interaction, stored store.Report, rep *diff.Report) error {
	pr := rep.PullRequest
	audit := func(outcome, detail string) error {
		_, err := s.Store.RecordApproval(ctx, store.Approval{
			Repo: pr.Repo, PR: pr.Number, HeadSHA: pr.HeadSHA, Actor: "slack:" + in.UserID, Source: approvalSourceKey,
			Outcome: outcome, Detail: detail, At: s.now(),
		})
		return err
	}
	refuse := func(outcome, why string) error {
		s.tell(ctx, in.ResponseURL, ":no_entry: "+why)
		return audit(outcome, why)
	}
	allowed, err := s.mayApprove(ctx, in.UserID)
	if err != nil {
		s.tell(ctx, in.ResponseURL, ":x: fluxdiff could not check who may approve; try again.")
		return err
	}
	if !allowed {
		return refuse(ApprovalDenied, "You are not allowed to approve pull requests from Slack (see slack.approvers).")
	}
	if login := s.GitHubLogins[in.UserID]; login != "" && strings.EqualFold(login, pr.Author) {
		return refuse(ApprovalAuthor, fmt.Sprintf("You (%s) opened %s#%d; a pull request cannot be approved by its author.", login, pr.Repo, pr.Number))
	}
	gh, err := s.GitHub.Installation(pr.InstallationID)
	if err != nil {
		return err
	}
	owner, name, _ := strings.Cut(pr.Repo, "/")
	current, _, err := gh.PullRequests.Get(ctx, owner, name, pr.Number)
	if err != nil {
		s.tell(ctx, in.ResponseURL, ":x: fluxdiff could not read the pull request; try again.")
		return fmt.Errorf("pull request %s#%d: %w", pr.Repo, pr.Number, err)
	}
	if current.GetState() != "open" {
		return refuse(ApprovalPRClosed, fmt.Sprintf("%s#%d is %s.", pr.Repo, pr.Number, current.GetState()))
	}
	if head := current.GetHead().GetSHA(); !strings.EqualFold(head, pr.HeadSHA) {
		return refuse(ApprovalStaleSHA, fmt.Sprintf("The pull request changed since this diff (head %s, diffed %s); run it again.", short(head), short(pr.HeadSHA)))
	}
	body := fmt.Sprintf("Approved from Slack by %s (Slack user %s) after reviewing fluxdiff report %d of commit %s.",
		s.slackName(in), in.UserID, stored.ID, pr.HeadSHA)
	// A click that runs again (its process stopped mid-way) finds its own
	// review rather than submitting a second one.
	done, err := reviewed(ctx, gh, owner, name, pr.Number, pr.HeadSHA, body)
	if err == nil && !done {
		_, _, err = gh.PullRequests.CreateReview(ctx, owner, name, pr.Number, &github.PullRequestReviewRequest{
			CommitID: github.String(pr.HeadSHA), Body: github.String(body), Event: github.String("APPROVE"),
		})
	}
	if err != nil {
		s.tell(ctx, in.ResponseURL, ":x: GitHub refused the approval: "+githubMessage(err))
		return fmt.Errorf("approve %s#%d: %w", pr.Repo, pr.Number, err)
	}
	if err := audit(ApprovalApproved, body); err != nil {
		return err
	}
	return s.markApproved(ctx, in)
}

// reviewed reports whether the pull request has an APPROVED review at sha
// with exactly body: the one this click submitted before. It reads every
// page of the reviews (GET /repos/{owner}/{repo}/pulls/{n}/reviews).
func reviewed(ctx context.Context, gh *github.Client, owner, name string, number int, sha, body string) (bool, error) {
	opts := &github.ListOptions{PerPage: 100}
	for {
		rvs, res, err := gh.PullRequests.ListReviews(ctx, owner, name, number, opts)
		if err != nil {
			return false, fmt.Errorf("reviews of %s/%s#%d: %w", owner, name, number, err)
		}
		for _, rv := range rvs {
			if rv.GetState() == "APPROVED" && strings.EqualFold(rv.GetCommitID(), sha) && rv.GetBody() == body {
				return true, nil
			}
		}
		if res.NextPage == 0 {
			return false, nil
		}
		opts.Page = res.NextPage
	}
}

// markApproved updates the message (or, for an ephemeral one, replaces it
// through the response URL).
func (s *Slack) markApproved(ctx context.Context, in chat.Interaction) error {
	blocks := chat.MarkApproved(in.Blocks, in.UserID, s.now())
	if in.Message.TS != "" {
		return s.Chat.Update(ctx, in.Message, blocks, "Approved by <@"+in.UserID+">")
	}
	return s.Chat.Respond(ctx, in.ResponseURL, chat.Response{Blocks: blocks, Text: "Approved", ReplaceOriginal: true})
}

// mayApprove reports whether userID is listed in Approvers, directly or
// through a user group.
func (s *Slack) mayApprove(ctx context.Context, userID string) (bool, error) {
	if slices.Contains(s.Approvers, userID) {
		return true, nil
	}
	for _, a := range s.Approvers {
		if !strings.HasPrefix(a, "S") {
			continue
		}
		members, err := s.Chat.GroupMembers(ctx, a)
		if err != nil {
			return false, err
		}
		if slices.Contains(members, userID) {
			return true, nil
		}
	}
	return false, nil
}

func (s *Slack) slackName(in chat.Interaction) string {
	if in.UserName != "" {
		return "@" + in.UserName
	}
	return in.UserID
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// githubMessage is GitHub's own message of an API error, without the URL.
func githubMessage(err error) string {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return "see the server log"
}
