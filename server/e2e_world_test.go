package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// The fixture repository on the GitHub stand-in.
const (
	fleetRepo     = "acme/fleet"
	webhookSecret = "e2e-webhook-secret"
)

// world is fluxdiff running against two real API servers (staging and
// production, bootstrapped from Flux's example repository as Flux leaves
// them) and the GitHub stand-in, with its store, queue and HTTP server.
type world struct {
	gh       *githubtest.Server
	envs     map[string]*kubetest.Env
	st       *store.Store
	ts       *httptest.Server
	base     map[string][]byte // the base branch's files
	baseSHA  string
	delivery atomic.Int64
	opened   map[int]bool
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// exampleRepo is the copy of Flux's example repository in testdata.
func exampleRepo() string {
	return filepath.Join(repoRoot(), "testdata", "realrepos", "flux2-kustomize-helm-example-classic")
}

func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func writeTree(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startCluster starts an API server with the stand-in CRDs the example
// repository's kinds need, and bootstraps it at clusters/NAME.
func startCluster(t *testing.T, name, url, baseDir, baseSHA string) *kubetest.Env {
	t.Helper()
	env, err := kubetest.Start()
	if err != nil {
		kubetest.Unavailable(t, err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	if err := env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		t.Fatal(err)
	}
	_, err = fluxsim.BootstrapCluster(t.Context(), env.Client, baseDir, fluxsim.Bootstrap{
		URL: url, Branch: "main", Path: "./clusters/" + name, Revision: baseSHA,
	})
	if err != nil {
		t.Fatalf("bootstrap %s: %v", name, err)
	}
	return env
}

func newWorld(t *testing.T) *world {
	w := &world{gh: githubtest.New(t, githubtest.Options{}), envs: map[string]*kubetest.Env{}, opened: map[int]bool{}}
	w.gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	w.base = readTree(t, exampleRepo())
	w.baseSHA = w.gh.AddCommit(fleetRepo, "", w.base)
	baseDir := writeTree(t, w.base)
	var clusters []*kube.Cluster
	for _, name := range []string{"staging", "production"} {
		w.envs[name] = startCluster(t, name, w.gh.HTMLURL(fleetRepo)+".git", baseDir, w.baseSHA)
		clusters = append(clusters, kube.NewCluster(name, w.envs[name].Config, 1000, 2000))
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	watcher := kube.NewWatcher(kube.NewIndex(), clusters)
	watcher.Start(t.Context())
	wctx, cancel := contextWithTimeout(t, 30*time.Second)
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
	}
	comments := &server.GitHubComments{App: app}
	q, err := queue.New(t.Context(), w.st, queue.Config{Logger: log, FetchPollInterval: 50 * time.Millisecond, Workers: 2},
		queue.Handlers{Runner: pipeline, Publisher: server.GitHubPublisher{App: app}, Comments: comments})
	if err != nil {
		t.Fatal(err)
	}
	comments.Queue = q
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(t, 20*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	hook := githubapp.NewWebhookHandler(githubapp.WebhookOptions{
		Secret: []byte(webhookSecret), AppID: w.gh.AppID(), Dispatcher: server.GitHubDispatcher{Queue: q}, Logger: log,
	})
	w.ts = httptest.NewServer(server.New(server.Options{Logger: log, GitHubWebhook: hook}).Handler())
	t.Cleanup(w.ts.Close)
}

// pr describes a pull request to open on the stand-in: the files it
// changes (nil content: removed) relative to the base branch.
type pr struct {
	number    int
	title     string
	user      string
	changes   map[string][]byte
	mergeable *bool
}

// open adds the pull request's head and test-merge commits and returns
// the head SHA. Opening the same number again is a push to it.
func (w *world) open(t *testing.T, p pr) (head string) {
	t.Helper()
	merged := map[string][]byte{}
	for k, v := range w.base {
		merged[k] = v
	}
	var files []githubtest.File
	for path, body := range p.changes {
		status := "modified"
		if _, ok := w.base[path]; !ok {
			status = "added"
		}
		if body == nil {
			status = "removed"
			delete(merged, path)
		} else {
			merged[path] = body
		}
		files = append(files, githubtest.File{Filename: path, Status: status})
	}
	merged[fmt.Sprintf(".pr-%d", p.number)] = []byte(fmt.Sprint(time.Now().UnixNano())) // distinct SHAs per push
	head = w.gh.AddCommit(fleetRepo, "", merged)
	mergeSHA := w.gh.AddCommit(fleetRepo, "", merged)
	mergeable := p.mergeable
	if mergeable == nil {
		mergeable = githubtest.Bool(true)
	}
	pull := githubtest.PullRequest{
		Number: p.number, Title: p.title, User: p.user, HeadSHA: head, BaseSHA: w.baseSHA,
		MergeCommitSHA: mergeSHA, Mergeable: mergeable, MergeableNullTimes: 1, Files: files,
	}
	if w.opened[p.number] {
		w.gh.UpdatePullRequest(fleetRepo, p.number, func(x *githubtest.PullRequest) {
			x.HeadSHA, x.MergeCommitSHA, x.Mergeable, x.MergeableNullTimes, x.Files = head, mergeSHA, mergeable, 1, files
		})
	} else {
		w.gh.AddPullRequest(fleetRepo, pull)
		w.opened[p.number] = true
	}
	return head
}

func contextWithTimeout(_ testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// send posts a webhook delivery signed with secret (empty: unsigned).
func (w *world) send(t *testing.T, event string, payload map[string]any, secret string) int {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, w.ts.URL+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("delivery-%d", w.delivery.Add(1)))
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// payload loads a real webhook payload from testdata and points it at the
// fixture repository, pull request and installation.
func (w *world) payload(t *testing.T, file string, number int, head string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "github", "webhooks", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["installation"] = map[string]any{"id": w.gh.InstallationID()}
	repo := m["repository"].(map[string]any)
	repo["full_name"], repo["name"] = fleetRepo, "fleet"
	repo["owner"].(map[string]any)["login"] = "acme"
	if p, ok := m["pull_request"].(map[string]any); ok {
		m["number"], p["number"], p["draft"] = number, number, false
		p["head"].(map[string]any)["sha"] = head
		for _, side := range []string{"head", "base"} {
			r := p[side].(map[string]any)["repo"].(map[string]any)
			r["full_name"], r["name"] = fleetRepo, "fleet"
			r["owner"].(map[string]any)["login"] = "acme"
		}
	}
	return m
}

// waitCheck waits until the fluxdiff check run of sha is completed.
func (w *world) waitCheck(t *testing.T, sha string) githubtest.CheckRun {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		for _, cr := range w.gh.CheckRuns(fleetRepo) {
			if cr.HeadSHA == sha && cr.Name == "fluxdiff" && cr.Status == "completed" {
				return cr
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no completed fluxdiff check run for %s; check runs: %+v", sha, w.gh.CheckRuns(fleetRepo))
	return githubtest.CheckRun{}
}

// lastReport returns the newest stored report of pull request number.
func (w *world) lastReport(t *testing.T, number int) diff.Report {
	t.Helper()
	reps, err := w.st.Reports(t.Context(), fleetRepo, number)
	if err != nil || len(reps) == 0 {
		t.Fatalf("reports of #%d: %d, %v", number, len(reps), err)
	}
	var r diff.Report
	if err := json.Unmarshal(reps[len(reps)-1].Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// rows names the Kustomizations a report diffed: "cluster/namespace/name".
func rows(r diff.Report) []string {
	var out []string
	for _, k := range r.Kustomizations {
		out = append(out, k.Cluster+"/"+k.Namespace+"/"+k.Name)
	}
	return out
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
	s := string(files[path])
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	return []byte(strings.Replace(s, old, new, 1))
}

// commentPayload is a real issue_comment.created payload for a comment on
// pull request number.
func (w *world) commentPayload(t *testing.T, number int, commentID int64, user, body string) map[string]any {
	t.Helper()
	p := w.payload(t, "issue_comment.created.1.json", number, "")
	issue := p["issue"].(map[string]any)
	issue["number"] = number
	issue["pull_request"] = map[string]any{"url": w.gh.URL() + "repos/" + fleetRepo + "/pulls/" + fmt.Sprint(number)}
	c := p["comment"].(map[string]any)
	c["id"], c["body"] = commentID, body
	c["user"].(map[string]any)["login"] = user
	p["sender"].(map[string]any)["login"] = user
	return p
}

// stagingValues is the staging overlay's values with one more value.
func stagingValues(t *testing.T, w *world) []byte {
	return replaceIn(t, w.base, "apps/staging/podinfo-values.yaml", "  values:\n", "  values:\n    replicaCount: 2\n")
}

// secretChanges adds to the staging apps a Secret holding fileCanary and a
// ConfigMap whose value is substituted from the cluster Secret
// cluster-secrets (postBuild.substituteFrom on the apps Kustomization).
func secretChanges(t *testing.T, w *world, fileCanary string) map[string][]byte {
	const k, apps = "apps/staging/kustomization.yaml", "clusters/staging/apps.yaml"
	return map[string][]byte{
		"apps/staging/db.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n  namespace: podinfo\n" +
			"data:\n  dsn: postgres://app:${DB_PASSWORD}@db/app\n"),
		"apps/staging/token.yaml": []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: podinfo\n" +
			"stringData:\n  token: " + fileCanary + "\n"),
		k:    replaceIn(t, w.base, k, "  - ../base/podinfo\n", "  - ../base/podinfo\n  - db.yaml\n  - token.yaml\n"),
		apps: replaceIn(t, w.base, apps, "  prune: true\n", "  prune: true\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n"),
	}
}

func mustReports(t *testing.T, w *world, number int) []store.Report {
	t.Helper()
	reps, err := w.st.Reports(t.Context(), fleetRepo, number)
	if err != nil {
		t.Fatal(err)
	}
	return reps
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
