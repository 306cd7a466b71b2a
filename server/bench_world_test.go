package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/servertest"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// benchWorld is fluxdiff wired as `fluxdiff serve` wires it (SQLite store,
// the queue's default poll interval, the configuration's default cache
// sizes and concurrency) on a fleet, with fresh caches, and counters of the
// dry-runs its clients send.
type benchWorld struct {
	fleet    *servertest.Fleet
	url      string
	builds   *diff.BuildCache
	store    *store.Store
	watcher  *kube.Watcher
	dryRuns  *dryRunCounter
	delivery int
	stop     func()
}

// newBenchWorld starts fluxdiff on f. Call stop when done.
func newBenchWorld(b *testing.B, f *servertest.Fleet) *benchWorld {
	ctx, cancel := context.WithCancel(context.Background())
	w := &benchWorld{fleet: f, dryRuns: &dryRunCounter{namespaces: map[string]int{}}}
	var stops []func()
	w.stop = func() {
		for _, s := range slices.Backward(stops) {
			s()
		}
		cancel()
	}
	var clusters []*kube.Cluster
	for _, name := range f.Names {
		cfg := rest.CopyConfig(f.Envs[name].Config)
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt: rt, c: w.dryRuns} }
		// The configuration's defaults: clusters[].qps 50, burst 100.
		clusters = append(clusters, kube.NewCluster(name, cfg, 50, 100))
	}
	log := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	w.watcher = kube.NewWatcher(kube.NewIndex(), clusters)
	w.watcher.Start(ctx)
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	if !w.watcher.WaitForSync(sctx) {
		b.Fatalf("index did not sync: %+v", w.watcher.Status())
	}
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "fluxdiff.db"))
	if err != nil {
		b.Fatal(err)
	}
	stops = append(stops, st.Close)
	w.store = st
	app, err := githubapp.New(githubapp.Config{AppID: f.GitHub.AppID(), PrivateKey: f.GitHub.PrivateKeyPEM(), BaseURL: f.GitHub.URL(), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	src, err := githubapp.NewSourceCache(b.TempDir(), 1<<30, githubapp.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	w.builds = diff.NewBuildCache(20_000)
	pipeline := &server.Pipeline{
		GitHub: app, Sources: src, Watcher: w.watcher, Selector: server.NewCachingSelector(4096, w.builds), Builds: w.builds,
		Clusters: clusters, Refs: server.StoreRefs{Refs: st}, Logger: log, MergePollTimeout: 20 * time.Second,
		DiffConcurrency: diff.DefaultConcurrency, DiffTimeout: 2 * time.Minute,
	}
	q, err := queue.New(ctx, st, queue.Config{Logger: log, MaxAttempts: 1},
		queue.Handlers{Runner: pipeline, Publisher: server.GitHubPublisher{App: app}, Comments: &server.GitHubComments{App: app}})
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	stops = append(stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	hook := githubapp.NewWebhookHandler(githubapp.WebhookOptions{
		Secret: []byte(webhookSecret), AppID: f.GitHub.AppID(), Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log,
	})
	ts := httptest.NewServer(server.New(server.Options{Logger: log, GitHubWebhook: hook}).Handler())
	stops = append(stops, ts.Close)
	w.url = ts.URL + "/webhooks/github"
	return w
}

// push sends the signed pull_request webhook for head (opened, or
// synchronize for a later push) and returns how long it took until the
// check run of head completed and the sticky comment named head.
func (w *benchWorld) push(b *testing.B, pr int, head string, first bool) time.Duration {
	file := "pull_request.synchronize.1.json"
	if first {
		file = "pull_request.opened.1.json"
	}
	payload, err := w.fleet.Payload(file, pr, head)
	if err != nil {
		b.Fatal(err)
	}
	w.delivery++
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	code, err := servertest.Send(ctx, w.url, webhookSecret, "pull_request", fmt.Sprintf("bench-%d-%d", pr, w.delivery), payload)
	if err != nil || code != http.StatusAccepted {
		b.Fatalf("webhook: %d %v", code, err)
	}
	short := head[:7]
	for {
		if w.published(pr, head, short) {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			b.Fatalf("no comment for %s: %v; check runs %+v", head, ctx.Err(), w.fleet.GitHub.CheckRuns(servertest.Repo))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// published reports whether the check run of head is completed and the
// pull request's sticky comment is the one for head.
func (w *benchWorld) published(pr int, head, short string) bool {
	done := false
	for _, cr := range w.fleet.GitHub.CheckRuns(servertest.Repo) {
		if cr.HeadSHA == head && cr.Status == "completed" {
			done = true
		}
	}
	if !done {
		return false
	}
	for _, c := range w.fleet.GitHub.Comments(servertest.Repo, pr) {
		if strings.Contains(c.Body, short) {
			return true
		}
	}
	return false
}

// dryRunCounter counts server-side apply dry-runs by namespace.
type dryRunCounter struct {
	mu         sync.Mutex
	namespaces map[string]int
}

func (c *dryRunCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.namespaces
	c.namespaces = map[string]int{}
	return out
}

var namespacePath = regexp.MustCompile(`/namespaces/([^/]+)/`)

// countingTransport counts the PATCH ?dryRun=All requests it carries.
type countingTransport struct {
	rt http.RoundTripper
	c  *dryRunCounter
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "All" {
		ns := "(cluster)"
		if m := namespacePath.FindStringSubmatch(r.URL.Path); m != nil {
			ns = m[1]
		}
		t.c.mu.Lock()
		t.c.namespaces[ns]++
		t.c.mu.Unlock()
	}
	return t.rt.RoundTrip(r)
}
