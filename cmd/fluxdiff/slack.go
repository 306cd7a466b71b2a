package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// slackSide is the Slack side of serve: the chat client, the glue that runs
// commands and buttons, and the channel publisher. Nil fields when Slack
// (or GitHub, which it needs for sources) is not configured.
type slackSide struct {
	cfg          config.Slack
	log          *slog.Logger
	client       *chat.Client
	glue         *server.Slack
	verify       func(http.Handler) http.Handler
	interactions *chat.InteractionsHandler
}

// newSlack builds the Slack side from cfg on top of the GitHub side gh.
func newSlack(cfg *config.Config, log *slog.Logger, gh *gitHub) (*slackSide, error) {
	s := &slackSide{cfg: cfg.Slack, log: log.With("component", "slack")}
	if !cfg.Slack.Enabled() {
		return s, nil
	}
	if gh.app == nil {
		s.log.Warn("Slack is configured but the GitHub App is not: /slack/* answer 503 until github.* is set")
		return s, nil
	}
	var err error
	if s.client, err = chat.NewClient(chat.ClientOptions{Token: cfg.Slack.BotToken.Value(), APIURL: cfg.Slack.APIURL}); err != nil {
		return nil, err
	}
	if s.verify, err = chat.Verify(cfg.Slack.SigningSecret.Value()); err != nil {
		return nil, err
	}
	s.glue = &server.Slack{
		Chat: s.client, GitHub: gh.app, Pipeline: gh.pipeline,
		Approvers: cfg.Slack.Approvers, GitHubLogins: cfg.Slack.GitHubLogins, ReportTTL: cfg.Slack.ReportTTL.Duration,
		AllowForks: cfg.GitHub.AllowForks, Logger: s.log,
	}
	s.interactions = chat.NewInteractionsHandler(s.glue, chat.InteractionsOptions{Logger: s.log})
	return s, nil
}

// handlers adds the Slack command runner to h and the channel publisher
// after GitHub's.
func (s *slackSide) handlers(h queue.Handlers, st *store.Store) queue.Handlers {
	if s.glue == nil {
		return h
	}
	s.glue.Store = st
	h.Commands = s.glue
	slackPub := server.SlackPublisher{Chat: s.client, ChannelFor: s.cfg.ChannelFor}
	if h.Publisher == nil {
		h.Publisher = slackPub
	} else {
		h.Publisher = server.Publishers{h.Publisher, slackPub}
	}
	return h
}

// routes returns the verified /slack/commands and /slack/interactions
// handlers on q, or nils.
func (s *slackSide) routes(q *queue.Queue) (commands, interactions http.Handler) {
	if s.glue == nil {
		return nil, nil
	}
	return s.verify(chat.CommandsHandler(server.SlackQueue{Queue: q}, s.log)), s.verify(s.interactions)
}

// wait lets button presses in flight finish until ctx ends.
func (s *slackSide) wait(ctx context.Context) {
	if s.interactions == nil {
		return
	}
	if err := s.interactions.Wait(ctx); err != nil {
		s.log.Warn("slack interactions still running at shutdown", "error", err.Error())
	}
}
