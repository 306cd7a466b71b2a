package githubapp

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

// memRefs is Refs in a map, as the server's store keeps them.
type memRefs struct {
	mu   sync.Mutex
	refs map[string]savedRef // kind + " " + key
}

type savedRef struct {
	id       string
	reportID int64
}

func (m *memRefs) Ref(_ context.Context, kind, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.refs[kind+" "+key]
	return r.id, ok, nil
}

func (m *memRefs) SaveRef(_ context.Context, kind, key, externalID string, reportID int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs == nil {
		m.refs = map[string]savedRef{}
	}
	m.refs[kind+" "+key] = savedRef{externalID, reportID}
	return nil
}

func (m *memRefs) get(kind, key string) savedRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refs[kind+" "+key]
}

// secretCanary is the value of a Secret in the fixture repository; no
// request to GitHub may carry it.
const secretCanary = "canary-7f3a9c2e-do-not-publish"

// publishWorld is a stand-in holding acme/fleet with open pull request 42
// (whose tree holds a Secret with secretCanary) and an App against it.
type publishWorld struct {
	gh   *githubtest.Server
	app  *App
	refs *memRefs
	head string
}

func newPublishWorld(t *testing.T, cfg Config) *publishWorld {
	t.Helper()
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	head := gh.AddCommit("acme/fleet", "", map[string][]byte{
		"apps/prod/secret.yaml": []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: podinfo\nstringData:\n  token: " + secretCanary + "\n"),
	})
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 42, HeadSHA: head, Mergeable: githubtest.Bool(true), MergeCommitSHA: head})
	cfg.AppID, cfg.PrivateKey, cfg.BaseURL = gh.AppID(), gh.PrivateKeyPEM(), gh.URL()
	app, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &publishWorld{gh: gh, app: app, refs: &memRefs{}, head: head}
}

// report returns rep made a report of the world's pull request.
func (w *publishWorld) report(rep *diff.Report) *diff.Report {
	pr := *testPR()
	pr.InstallationID, pr.HeadSHA, pr.MergeSHA = w.gh.InstallationID(), w.head, w.head
	rep.PullRequest = &pr
	return rep
}

// stickies returns the bodies of the sticky comment parts on the pull
// request, oldest first.
func (w *publishWorld) stickies() []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range w.gh.Comments("acme/fleet", 42) {
		if strings.HasPrefix(c.Body, "<!-- fluxdiff:sticky acme/fleet#42 ") {
			out = append(out, c)
		}
	}
	return out
}

func (w *publishWorld) checkRuns() []githubtest.CheckRun { return w.gh.CheckRuns("acme/fleet") }
