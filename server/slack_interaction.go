package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// RunInteraction implements queue.InteractionRunner: Post diff to PR and
// Approve PR on a stored report. Refusals and failures are answered to the
// person alone. A failure is permanent, since the person was told to try
// again and a retry could repeat what was done, unless ctx ended (the
// process is stopping): then the click runs again later.
func (s *Slack) RunInteraction(ctx context.Context, args queue.InteractionArgs) error {
	blocks, err := chat.DecodeBlocks(args.Blocks)
	if err != nil {
		return queue.Permanent(err)
	}
	in := chat.Interaction{
		Action: args.Action, ReportID: args.ReportID, UserID: args.UserID, UserName: args.UserName, TeamID: args.TeamID,
		Message: chat.MessageRef{Channel: args.ChannelID, TS: args.MessageTS}, Blocks: blocks, ResponseURL: args.ResponseURL,
	}
	err = s.runInteraction(ctx, in)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return queue.Permanent(err)
}

func (s *Slack) runInteraction(ctx context.Context, in chat.Interaction) error {
	stored, rep, err := s.loadReport(ctx, in.ReportID)
	var ue *userError
	if errors.As(err, &ue) {
		s.tell(ctx, in.ResponseURL, ":warning: "+ue.msg)
		return nil
	}
	if err != nil {
		s.tell(ctx, in.ResponseURL, ":x: fluxdiff could not read this report; try again.")
		return err
	}
	switch in.Action {
	case chat.ActionPostToPR:
		return s.postToPR(ctx, in, stored, rep)
	case chat.ActionApprove:
		return s.approve(ctx, in, stored, rep)
	}
	return nil
}

// loadReport reads a report that buttons may still act on.
func (s *Slack) loadReport(ctx context.Context, id int64) (store.Report, *diff.Report, error) {
	stored, err := s.Store.Report(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Report{}, nil, userErrorf("This report no longer exists; run the diff again.")
	}
	if err != nil {
		return store.Report{}, nil, err
	}
	if s.expired(stored.Created) {
		return store.Report{}, nil, userErrorf("This report has expired (reports are kept for %s); run the diff again.", s.reportTTL())
	}
	var rep diff.Report
	if err := json.Unmarshal(stored.Body, &rep); err != nil {
		return store.Report{}, nil, fmt.Errorf("report %d: %w", id, err)
	}
	if rep.PullRequest == nil || rep.PullRequest.Number <= 0 {
		return store.Report{}, nil, userErrorf("This report is not of a pull request.")
	}
	return stored, &rep, nil
}

// postToPR writes the report as the pull request's sticky comment, whatever
// github.commentMode says, and says so in the message's thread.
func (s *Slack) postToPR(ctx context.Context, in chat.Interaction, stored store.Report, rep *diff.Report) error {
	if err := s.GitHub.PostComment(ctx, rep, stored.ID, StoreRefs{Refs: s.Store}); err != nil {
		s.tell(ctx, in.ResponseURL, ":x: fluxdiff could not post the diff to the pull request; try again.")
		return err
	}
	pr := rep.PullRequest
	text := fmt.Sprintf("<@%s> posted this diff to <%s|%s#%d>.", in.UserID, pr.URL, pr.Repo, pr.Number)
	if in.Message.TS == "" {
		s.tell(ctx, in.ResponseURL, text)
		return nil
	}
	return s.Chat.Reply(ctx, in.Message, text)
}
