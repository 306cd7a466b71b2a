package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

func newServeCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the GitHub App webhook and Slack server",
		Long: `Run fluxdiff's HTTP server: GitHub webhooks on /webhooks/github, Slack on
/slack/commands and /slack/interactions, probes on /healthz and /readyz and
Prometheus metrics on /metrics.

With no configuration it listens on ` + config.DefaultListen + `, keeps its state in
` + config.DefaultStoreURL + ` and diffs against the current kubeconfig
context; GitHub and Slack stay off until configured.

Environment overrides:
  ` + strings.Join(config.EnvNames(), "\n  "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath, os.LookupEnv)
			if err != nil {
				return &codeError{code: exitError, err: err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, cfg, newLogger(cmd.ErrOrStderr(), cfg.LogLevel))
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration file (optional)")
	return cmd
}

func runServe(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	klog.SetSlogLogger(log.With("component", "client-go"))
	clusters := loadClusters(cfg.Clusters, log)
	watcher := startIndex(ctx, clusters)
	checks := clusterChecks(watcher)
	reportIntegrations(cfg, log)
	reg := newRegistry()
	gh, err := newGitHub(cfg, log, reg, watcher, clusters)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	sl, err := newSlack(cfg, log, gh)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	dur, err := openDurable(ctx, cfg, log, func(st *store.Store) queue.Handlers { return sl.handlers(gh.handlers(st), st) }, gh.setQueue)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	// On the signal the queue stops taking jobs while the HTTP server
	// drains, both by ShutdownTimeout after it; the store closes last.
	defer dur.close()
	checks = append(checks, dur.check())
	go gh.verify(ctx, log)

	slackCommands, slackInteractions := sl.routes(dur.queue)
	srv := server.New(server.Options{
		Logger: log, MaxBodyBytes: cfg.MaxBodyBytes, Checks: checks, Registry: reg,
		GitHubWebhook: gh.webhook(cfg, log, dur.queue),
		SlackCommands: slackCommands, SlackInteractions: slackInteractions,
	})
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("listen on %s: %w", cfg.Listen, err)}
	}
	if err := srv.Serve(ctx, l, cfg.ShutdownTimeout.Duration); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func loadClusters(specs []config.Cluster, log *slog.Logger) []*kube.Cluster {
	out := make([]*kube.Cluster, 0, len(specs))
	for _, s := range specs {
		cl := kube.LoadCluster(kube.ClusterSpec{Name: s.Name, Kubeconfig: s.Kubeconfig, Context: s.Context, QPS: s.QPS, Burst: s.Burst})
		if cl.LoadErr != nil {
			log.Warn("cluster is not usable; its kubeconfig is loaded again with backoff", "cluster", s.Name, "error", cl.LoadErr.Error())
		} else {
			log.Info("cluster configured", "cluster", s.Name, "host", cl.Config.Host)
		}
		out = append(out, cl)
	}
	return out
}

func reportIntegrations(cfg *config.Config, log *slog.Logger) {
	if cfg.GitHub.Enabled() {
		log.Info("GitHub App configured", "app_id", cfg.GitHub.AppID, "base_url", cfg.GitHub.BaseURL)
	} else {
		log.Warn("GitHub App not configured: /webhooks/github answers 503 (set github.appID, github.privateKeyFile, github.webhookSecret)")
	}
	if cfg.Slack.Enabled() {
		log.Info("Slack app configured", "channel", cfg.Slack.Channel)
	} else {
		log.Warn("Slack not configured: /slack/* answer 503 (set slack.signingSecret, slack.botToken)")
	}
}

// newRegistry is the process's metrics registry, with the Go and process
// collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
