package main

import (
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
	cfg    config.Slack
	log    *slog.Logger
	client *chat.Client
	glue   *server.Slack
	verify func(http.Handler) http.Handler
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
	return s, nil
}

// handlers adds the Slack command and button runners to h and the channel
// publisher after GitHub's.
func (s *slackSide) handlers(h queue.Handlers, st *store.Store) queue.Handlers {
	if s.glue == nil {
		return h
	}
	s.glue.Store = st
	h.Commands, h.Interactions = s.glue, s.glue
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
	sq := server.SlackQueue{Queue: q}
	return s.verify(chat.CommandsHandler(sq, s.log)), s.verify(chat.InteractionsHandler(sq, s.log))
}
