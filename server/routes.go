package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the whole route table.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(chimw.RequestID)
	r.Use(s.metrics())
	r.Use(s.accessLog)
	r.Use(s.recoverPanics)
	r.Use(limitBody(s.opts.MaxBodyBytes))

	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))

	r.Method(http.MethodPost, "/webhooks/github", orUnconfigured(s.opts.GitHubWebhook, "GitHub", "github.appID, github.privateKeyFile and github.webhookSecret"))
	r.Method(http.MethodPost, "/slack/commands", orUnconfigured(s.opts.SlackCommands, "Slack", "slack.signingSecret and slack.botToken"))
	r.Method(http.MethodPost, "/slack/interactions", orUnconfigured(s.opts.SlackInteractions, "Slack", "slack.signingSecret and slack.botToken"))

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	return r
}

// orUnconfigured returns h, or a handler that answers 503 explaining which
// settings enable the integration.
func orUnconfigured(h http.Handler, name, settings string) http.Handler {
	if h != nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusServiceUnavailable, name+" integration is not configured on this fluxdiff server (set "+settings+")")
	})
}
