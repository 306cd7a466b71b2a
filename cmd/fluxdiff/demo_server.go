package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// demoWebhookSecret signs the demo's webhook deliveries.
const demoWebhookSecret = "fluxdiff-demo-webhook-secret"

// demoChannel is the Slack stand-in's channel for pull request diffs.
const demoChannel = "C0FLUXDEMO"

// demoServer is `fluxdiff serve` running in this process for the demo.
type demoServer struct {
	url, logPath, configPath string
	// charts is the local Helm repository's URL.
	charts string
	// slack is the Slack stand-in fluxdiff posts to.
	slack *chattest.Server
	stop  func()
}

// startDemoServer writes a configuration for fleet (a kubeconfig per
// cluster, the stand-in's App key and URL, HelmRelease rendering with
// helm.allowedCIDRs holding only the address of charts) into dir, starts
// the server with it and waits until it is ready.
func startDemoServer(ctx context.Context, rep *demoReporter, fleet *servertest.Fleet, charts *servertest.ChartRepo, dir string) (*demoServer, error) {
	sl := chattest.Start(rep, chattest.Options{})
	written, err := servertest.WriteConfig(fleet, dir, servertest.ConfigOptions{
		WebhookSecret: demoWebhookSecret,
		// Loopback addresses are refused to chart fetches unless allowed:
		// allow the chart repository's address alone.
		Helm: true, HelmAllowedCIDRs: []string{charts.CIDR()},
		Slack: &servertest.SlackConfig{
			APIURL: sl.APIURL(), SigningSecret: "fluxdiff-demo-slack-signing-secret", BotToken: sl.Token(), Channel: demoChannel,
		},
	})
	if err != nil {
		return nil, err
	}
	cfgPath := written.Path
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "fluxdiff.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServe(sctx, cfg, newLogger(logFile, "info")) }()
	srv := &demoServer{url: "http://" + cfg.Listen, logPath: logPath, configPath: cfgPath, charts: charts.URL(), slack: sl, stop: func() {
		cancel()
		<-done
		logFile.Close()
	}}
	if err := waitReady(ctx, srv.url, done); err != nil {
		srv.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return srv, nil
}

// waitReady polls /readyz until it answers 200, the server stops or a
// minute passes.
func waitReady(ctx context.Context, url string, done <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("fluxdiff serve stopped: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("fluxdiff serve at %s was not ready within a minute", url)
}
