package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/helmtest"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/servertest"
	"github.com/fluxdiff/fluxdiff/server/store"
)

const (
	fleetRepo     = servertest.Repo
	webhookSecret = "e2e-webhook-secret"
)

// world is fluxdiff wired as `fluxdiff serve` wires it, on SQLite, against
// a servertest.Fleet: two real API servers (staging, production)
// bootstrapped from Flux's example repository and the GitHub stand-in.
type world struct {
	*servertest.Fleet
	gh       *githubtest.Server
	st       *store.Store
	ts       *httptest.Server
	delivery atomic.Int64
	// down cuts fluxdiff off from a cluster, as a network partition would.
	down map[string]*atomic.Bool
	// charts serves the podinfo chart to the HelmRelease renderer.
	charts *helmtest.Getter
}

// partition fails every request while down is set.
type partition struct {
	rt   http.RoundTripper
	down *atomic.Bool
}

func (p partition) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused (the test cut the cluster off)")}
	}
	return p.rt.RoundTrip(r)
}

func newWorld(t *testing.T) *world { return newWorldOf(t, servertest.ExampleRepo()) }

// newWorldOf is newWorld on the example repository in repoDir.
func newWorldOf(t *testing.T, repoDir string) *world {
	f, err := servertest.StartFleet(t.Context(), t, repoDir, "staging", "production")
	if err != nil {
		kubetest.Unavailable(t, err)
	}
	w := &world{Fleet: f, gh: f.GitHub, down: map[string]*atomic.Bool{}}
	if w.charts, err = servertest.ChartGetter(); err != nil {
		t.Fatal(err)
	}
	var clusters []*kube.Cluster
	for _, name := range f.Names {
		cfg := rest.CopyConfig(f.Envs[name].Config)
		down := &atomic.Bool{}
		w.down[name] = down
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return partition{rt: rt, down: down} }
		clusters = append(clusters, kube.NewCluster(name, cfg, 1000, 2000))
	}
	level := slog.LevelWarn
	if os.Getenv("FLUXDIFF_E2E_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
	watcher := kube.NewWatcher(kube.NewIndex(), clusters)
	watcher.Start(t.Context())
	wctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if !watcher.WaitForSync(wctx) {
		t.Fatalf("index did not sync: %+v", watcher.Status())
	}
	w.startServer(t, log, watcher, clusters)
	return w
}

// startServer wires fluxdiff as `fluxdiff serve` does, on SQLite.
func (w *world) startServer(t *testing.T, log *slog.Logger, watcher *kube.Watcher, clusters []*kube.Cluster) {
	var err error
	w.st, err = store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "fluxdiff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.st.Close)
	app, err := githubapp.New(githubapp.Config{
		AppID: w.gh.AppID(), PrivateKey: w.gh.PrivateKeyPEM(), BaseURL: w.gh.URL(), Logger: log,
		MergePollTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	src, err := githubapp.NewSourceCache(t.TempDir(), 1<<30, githubapp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pipeline := &server.Pipeline{
		GitHub: app, Sources: src, Watcher: watcher, Selector: server.NewSelector(1024), Clusters: clusters,
		Refs: server.StoreRefs{Refs: w.st}, Logger: log, MergePollTimeout: 20 * time.Second, DiffTimeout: 2 * time.Minute,
		Helm: &server.HelmRendering{Getter: w.charts},
	}
	comments := &server.GitHubComments{App: app}
	q, err := queue.New(t.Context(), w.st, queue.Config{Logger: log, FetchPollInterval: 50 * time.Millisecond, Workers: 2, MaxAttempts: 1},
		queue.Handlers{Runner: pipeline, Publisher: server.GitHubPublisher{App: app}, Comments: comments, Superseded: server.GitHubSuperseded{App: app}})
	if err != nil {
		t.Fatal(err)
	}
	comments.Queue = q
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	hook := githubapp.NewWebhookHandler(githubapp.WebhookOptions{
		Secret: []byte(webhookSecret), AppID: w.gh.AppID(), Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log,
	})
	w.ts = httptest.NewServer(server.New(server.Options{Logger: log, GitHubWebhook: hook}).Handler())
	t.Cleanup(w.ts.Close)
}

// open opens (or pushes to) a pull request; see servertest.Fleet.Open.
func (w *world) open(t *testing.T, p servertest.PR) string {
	t.Helper()
	return w.Open(p)
}

// send posts a webhook delivery signed with secret (empty: unsigned).
func (w *world) send(t *testing.T, event string, payload map[string]any, secret string) int {
	t.Helper()
	code, err := servertest.Send(t.Context(), w.ts.URL+"/webhooks/github", secret, event,
		fmt.Sprintf("delivery-%d", w.delivery.Add(1)), payload)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// payload is a real webhook payload pointed at pull request number.
func (w *world) payload(t *testing.T, file string, number int, head string) map[string]any {
	t.Helper()
	p, err := w.Payload(file, number, head)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitCheck waits until the fluxdiff check run of sha is completed.
func (w *world) waitCheck(t *testing.T, sha string) githubtest.CheckRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cr, err := w.WaitCheck(ctx, sha, "fluxdiff")
	if err != nil {
		t.Fatalf("%v; check runs: %+v", err, w.gh.CheckRuns(fleetRepo))
	}
	return cr
}

// commentPayload is a real issue_comment.created payload for a comment on
// pull request number.
func (w *world) commentPayload(t *testing.T, number int, commentID int64, user, body string) map[string]any {
	t.Helper()
	p := w.payload(t, "issue_comment.created.1.json", number, "")
	c := p["comment"].(map[string]any)
	c["id"], c["body"] = commentID, body
	c["user"].(map[string]any)["login"] = user
	p["sender"].(map[string]any)["login"] = user
	return p
}

// lastReport returns the newest stored report of pull request number.
func (w *world) lastReport(t *testing.T, number int) diff.Report {
	t.Helper()
	reps := mustReports(t, w, number)
	if len(reps) == 0 {
		t.Fatalf("no report of #%d", number)
	}
	var r diff.Report
	if err := json.Unmarshal(reps[len(reps)-1].Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustReports(t *testing.T, w *world, number int) []store.Report {
	t.Helper()
	reps, err := w.st.Reports(t.Context(), fleetRepo, number)
	if err != nil {
		t.Fatal(err)
	}
	return reps
}

// change finds the change of kind/name in the row of cluster and
// Kustomization ks.
func change(r diff.Report, cluster, ks, kind, name string) (diff.Change, bool) {
	for _, k := range r.Kustomizations {
		if k.Cluster != cluster || k.Name != ks {
			continue
		}
		for _, c := range k.Changes {
			if c.Kind == kind && c.Name == name {
				return c, true
			}
		}
	}
	return diff.Change{}, false
}

func replaceIn(t *testing.T, files map[string][]byte, path, old, new string) []byte {
	t.Helper()
	b, err := servertest.Edit(files, path, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stagingValues is the staging overlay's values with one more value.
func stagingValues(t *testing.T, w *world) []byte {
	return replaceIn(t, w.Base, "apps/staging/podinfo-values.yaml", "  values:\n", "  values:\n    replicaCount: 2\n")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustSecretChanges(t *testing.T, base map[string][]byte, fileCanary string) map[string][]byte {
	t.Helper()
	files, err := servertest.SecretChanges(base, fileCanary)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
