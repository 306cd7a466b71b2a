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

// SlackPublisher posts every pull request's report to a channel, one
// message per pull request updated in place on new pushes (chat.update by
// the ts stored as a published reference), with the report buttons. It
// implements queue.Publisher; compose it with GitHub's in Publishers.
type SlackPublisher struct {
	// Chat posts to Slack.
	Chat *chat.Client
	// ChannelFor returns the channel of a repository ("owner/name"); ""
	// posts nothing for it.
	ChannelFor func(repo string) string
}

// slackMessageKey is the published reference key of a pull request's
// message: "owner/name#N".
func slackMessageKey(repo string, pr int) string { return fmt.Sprintf("%s#%d", repo, pr) }

// Publish implements queue.Publisher. A report with nothing to show (no
// Kustomization affected, no error) posts no new message, but an existing
// one is updated to say so.
func (p SlackPublisher) Publish(ctx context.Context, stored store.Report, refs queue.Refs) error {
	channel := p.ChannelFor(stored.Repo)
	if channel == "" {
		return nil
	}
	var rep diff.Report
	if err := json.Unmarshal(stored.Body, &rep); err != nil {
		return queue.Permanent(fmt.Errorf("report %d is not a diff report: %w", stored.ID, err))
	}
	if rep.PullRequest == nil || rep.PullRequest.Number <= 0 {
		return nil
	}
	key := slackMessageKey(rep.PullRequest.Repo, rep.PullRequest.Number)
	target := chat.MessageRef{Channel: channel}
	old, err := refs.PublishedRef(ctx, store.RefSlackMessage, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if len(rep.Kustomizations) == 0 && rep.Error == "" {
			return nil
		}
	case err != nil:
		return err
	default:
		if ref, perr := chat.ParseMessageRef(old.ExternalID); perr == nil && ref.Channel == channel {
			target = ref
		}
	}
	msg := chat.Message{Report: &rep, ReportID: stored.ID}
	ref, err := p.Chat.PostReport(ctx, target, msg)
	if target.TS != "" && chat.SlackError(err) == "message_not_found" { // deleted by someone: post anew
		ref, err = p.Chat.PostReport(ctx, chat.MessageRef{Channel: channel}, msg)
	}
	if err != nil {
		return fmt.Errorf("slack message of %s: %w", key, err)
	}
	return refs.SavePublishedRef(ctx, store.PublishedRef{Kind: store.RefSlackMessage, Key: key, ExternalID: ref.String(), ReportID: stored.ID})
}
