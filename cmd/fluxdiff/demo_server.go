package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// demoWebhookSecret signs the demo's webhook deliveries.
const demoWebhookSecret = "fluxdiff-demo-webhook-secret"

// demoServer is `fluxdiff serve` running in this process for the demo.
type demoServer struct {
	url, logPath, configPath string
	stop                     func()
}

// startDemoServer writes a configuration for fleet (a kubeconfig per
// cluster, the stand-in's App key and URL) into dir, starts the server
// with it and waits until it is ready.
func startDemoServer(ctx context.Context, fleet *servertest.Fleet, dir string) (*demoServer, error) {
	cfgPath, err := writeDemoConfig(fleet, dir)
	if err != nil {
		return nil, err
	}
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
	srv := &demoServer{url: "http://" + cfg.Listen, logPath: logPath, configPath: cfgPath, stop: func() {
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

func writeDemoConfig(fleet *servertest.Fleet, dir string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	listen := l.Addr().String()
	l.Close()
	keyPath := filepath.Join(dir, "github-app.pem")
	if err := os.WriteFile(keyPath, fleet.GitHub.PrivateKeyPEM(), 0o600); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\nlogLevel: info\n", listen)
	fmt.Fprintf(&b, "github:\n  appID: %d\n  privateKeyFile: %q\n  webhookSecret: %q\n  baseURL: %q\n  mergePollTimeout: 30s\n",
		fleet.GitHub.AppID(), keyPath, demoWebhookSecret, fleet.GitHub.URL())
	b.WriteString("clusters:\n")
	for _, name := range fleet.Names {
		kdir := filepath.Join(dir, name)
		if err := os.MkdirAll(kdir, 0o700); err != nil {
			return "", err
		}
		kc, err := fleet.Envs[name].Kubeconfig(kdir)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  - name: %s\n    kubeconfig: %q\n    qps: 200\n    burst: 400\n", name, kc)
	}
	fmt.Fprintf(&b, "store:\n  url: %q\nsource:\n  dir: %q\n", "sqlite://"+filepath.Join(dir, "fluxdiff.db"), filepath.Join(dir, "sources"))
	p := filepath.Join(dir, "config.yaml")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
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
