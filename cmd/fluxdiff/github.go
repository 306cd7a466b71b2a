package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// gitHub is the GitHub side of serve: the App, and the queue handlers and
// webhook built on it. All nil when GitHub is not configured.
type gitHub struct {
	app      *githubapp.App
	pipeline *server.Pipeline
	comments *server.GitHubComments
}

// newGitHub builds the GitHub App and the pipeline from cfg, or returns a
// zero gitHub when GitHub is not configured.
func newGitHub(cfg *config.Config, log *slog.Logger, reg prometheus.Registerer, w *kube.Watcher, clusters []*kube.Cluster) (*gitHub, error) {
	if !cfg.GitHub.Enabled() {
		return &gitHub{}, nil
	}
	g := cfg.GitHub
	modes := map[string]string{}
	for repo, rs := range g.Repositories {
		if rs.CommentMode != "" {
			modes[repo] = rs.CommentMode
		}
	}
	app, err := githubapp.New(githubapp.Config{
		AppID: g.AppID, PrivateKey: []byte(g.PrivateKey.Value()), BaseURL: g.BaseURL,
		Logger: log.With("component", "github"), Registerer: reg,
		CommentMode: g.CommentMode, RepoCommentModes: modes, ChangesConclusion: g.ChangesConclusion,
		MergePollTimeout: g.MergePollTimeout.Duration, AllowForks: g.AllowForks,
	})
	if err != nil {
		return nil, err
	}
	src, err := githubapp.NewSourceCache(cfg.Source.Dir, cfg.Source.CacheBytes,
		githubapp.Limits{MaxBytes: cfg.Source.MaxArchiveBytes, MaxFiles: cfg.Source.MaxFiles})
	if err != nil {
		return nil, err
	}
	builds := diff.NewBuildCache(cfg.Diff.BuildCacheObjects)
	p := &server.Pipeline{
		GitHub: app, Sources: src, Watcher: w, Selector: server.NewCachingSelector(4096, builds), Builds: builds, Clusters: clusters,
		Logger: log.With("component", "pipeline"), MergePollTimeout: g.MergePollTimeout.Duration,
		DiffConcurrency: cfg.Diff.Concurrency, DiffTimeout: cfg.Diff.Timeout.Duration, Tenancy: tenancy(cfg.Diff),
	}
	if !cfg.Helm.Disabled {
		p.Helm = &server.HelmRendering{Getter: chartfetch.New(cfg.Helm.ChartFetchOptions())}
	}
	return &gitHub{app: app, pipeline: p, comments: &server.GitHubComments{App: app}}, nil
}

// handlers are the queue's handlers for GitHub work on st.
func (g *gitHub) handlers(st *store.Store) queue.Handlers {
	if g.app == nil {
		return queue.Handlers{}
	}
	g.pipeline.Refs = server.StoreRefs{Refs: st}
	return queue.Handlers{Runner: g.pipeline, Publisher: server.GitHubPublisher{App: g.app}, Comments: g.comments,
		Superseded: server.GitHubSuperseded{App: g.app}}
}

// setQueue gives the comment handler the queue it queues diffs on; it runs
// before the queue starts.
func (g *gitHub) setQueue(q *queue.Queue) {
	if g.comments != nil {
		g.comments.Queue = q
	}
}

// webhook returns the /webhooks/github handler on q, or nil.
func (g *gitHub) webhook(cfg *config.Config, log *slog.Logger, q *queue.Queue) http.Handler {
	if g.app == nil {
		return nil
	}
	return githubapp.NewWebhookHandler(githubapp.WebhookOptions{
		Secret: []byte(cfg.GitHub.WebhookSecret.Value()), AppID: cfg.GitHub.AppID,
		Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log.With("component", "webhook"),
		SkipDrafts: cfg.GitHub.SkipDrafts, AllowForks: cfg.GitHub.AllowForks,
	})
}

// verify checks the App's credentials once at start-up, so that a wrong key
// is reported at once rather than on the first pull request.
func (g *gitHub) verify(ctx context.Context, log *slog.Logger) {
	if g.app == nil {
		return
	}
	login, err := g.app.BotLogin(ctx)
	if err != nil {
		log.Warn("GitHub App credentials could not be checked; webhooks are still accepted", "error", err.Error())
		return
	}
	log.Info("GitHub App authenticated", "bot", login)
}

// tenancy is the pipeline's treatment of remote targets and service
// accounts, from the diff settings.
func tenancy(d config.Diff) server.Tenancy {
	return server.Tenancy{
		Impersonate: d.Impersonate, DefaultServiceAccount: d.DefaultServiceAccount,
		KubeConfig: kube.KubeConfigOptions{AllowExec: d.InsecureKubeconfigExec, AllowInsecureTLS: d.InsecureKubeconfigTLS},
	}
}
