package slacke2e

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/chat/chattest"
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
	signingSecret = "e2e-slack-signing-secret"
	// prChannel gets every pull request's diff; cmdChannel is where people
	// type commands.
	prChannel  = "C0PRDIFFS"
	cmdChannel = "C0DEPLOYS"
)

// Slack users of the tests: ada is an approver, gina one through the
// group S0SRE, bob none, octo is the pull requests' author (octocat).
const (
	userAda  = "U0ADA"
	userGina = "U0GINA"
	userBob  = "U0BOB"
	userOcto = "U0OCTO"
)

// world is fluxdiff with GitHub and Slack on a servertest.Fleet.
type world struct {
	*servertest.Fleet
	gh    *githubtest.Server
	sl    *chattest.Server
	st    *store.Store
	glue  *server.Slack
	ts    *httptest.Server
	seq   atomic.Int64
	dbURL string
	// stopFn stops what start started (once).
	stopFn func()
	// ttl is slack.reportTTL of the next start (0: the default).
	ttl time.Duration
	// root is the top-level test: what start starts lives as long as it.
	root *testing.T
}

func newWorld(t *testing.T) *world { return newWorldOf(t, servertest.ExampleRepo()) }

// newWorldOf is newWorld on the example repository in repoDir.
func newWorldOf(t *testing.T, repoDir string) *world {
	f, err := servertest.StartFleet(t.Context(), t, repoDir, "staging", "production")
	if err != nil {
		kubetest.Unavailable(t, err)
	}
	w := &world{Fleet: f, gh: f.GitHub, sl: chattest.New(t, chattest.Options{}), root: t}
	w.sl.SetGroup("S0SRE", userGina)
	w.dbURL = "sqlite://" + filepath.Join(t.TempDir(), "fluxdiff.db")
	w.start()
	return w
}

// start wires fluxdiff as `fluxdiff serve` does (see cmd/fluxdiff), with
// github.commentMode manual; the store survives a call of stop then start
// (a restart).
func (w *world) start() {
	t := w.root
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var clusters []*kube.Cluster
	for _, name := range w.Names {
		clusters = append(clusters, kube.NewCluster(name, w.Envs[name].Config, 1000, 2000))
	}
	ctx, cancel := context.WithCancel(context.Background())
	watcher := kube.NewWatcher(kube.NewIndex(), clusters)
	watcher.Start(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if !watcher.WaitForSync(wctx) {
		t.Fatalf("index did not sync: %+v", watcher.Status())
	}
	var err error
	if w.st, err = store.Open(ctx, w.dbURL); err != nil {
		t.Fatal(err)
	}
	app, err := githubapp.New(githubapp.Config{AppID: w.gh.AppID(), PrivateKey: w.gh.PrivateKeyPEM(), BaseURL: w.gh.URL(),
		Logger: log, MergePollTimeout: 20 * time.Second, CommentMode: githubapp.CommentManual})
	if err != nil {
		t.Fatal(err)
	}
	src, err := githubapp.NewSourceCache(t.TempDir(), 1<<30, githubapp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pipeline := &server.Pipeline{GitHub: app, Sources: src, Watcher: watcher, Selector: server.NewSelector(1024), Clusters: clusters,
		Refs: server.StoreRefs{Refs: w.st}, Logger: log, MergePollTimeout: 20 * time.Second, DiffTimeout: 2 * time.Minute}
	client, err := chat.NewClient(chat.ClientOptions{Token: w.sl.Token(), APIURL: w.sl.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	w.glue = &server.Slack{Chat: client, Store: w.st, GitHub: app, Pipeline: pipeline,
		Approvers: []string{userAda, userOcto, "S0SRE"}, GitHubLogins: map[string]string{userOcto: "octocat"}, ReportTTL: w.ttl, Logger: log}
	pub := server.Publishers{server.GitHubPublisher{App: app}, server.SlackPublisher{Chat: client, ChannelFor: func(string) string { return prChannel }}}
	q, err := queue.New(ctx, w.st, queue.Config{Logger: log, FetchPollInterval: 50 * time.Millisecond, Workers: 2},
		queue.Handlers{Runner: pipeline, Publisher: pub, Commands: w.glue, Interactions: w.glue})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	verify, err := chat.Verify(signingSecret)
	if err != nil {
		t.Fatal(err)
	}
	sq := server.SlackQueue{Queue: q}
	hook := githubapp.NewWebhookHandler(githubapp.WebhookOptions{Secret: []byte(webhookSecret), AppID: w.gh.AppID(),
		Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log})
	w.ts = httptest.NewServer(server.New(server.Options{Logger: log, GitHubWebhook: hook,
		SlackCommands: verify(chat.CommandsHandler(sq, log)), SlackInteractions: verify(chat.InteractionsHandler(sq, log))}).Handler())
	ts, st := w.ts, w.st
	var once sync.Once
	w.stopFn = func() {
		once.Do(func() {
			ts.Close()
			sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer scancel()
			_ = q.Stop(sctx)
			st.Close()
			cancel()
		})
	}
	t.Cleanup(w.stopFn)
}

// restart stops the server, queue and store and starts new ones on the
// same database, as a new process would.
func (w *world) restart() {
	w.stopFn()
	w.start()
}
