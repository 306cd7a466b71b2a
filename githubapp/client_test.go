package githubapp

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

const tokenRoute = "/app/installations/{installation_id}/access_tokens"

// standIn returns a stand-in holding acme/fleet with pull request 7, and
// an App configured against it whose retry waits are recorded, not slept.
func standIn(t *testing.T, opts githubtest.Options, cfg Config) (*githubtest.Server, *App, *sleeps) {
	t.Helper()
	gh := githubtest.New(t, opts)
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	head := gh.AddCommit("acme/fleet", "", map[string][]byte{"apps/a.yaml": []byte("a: 1\n")})
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: head, Mergeable: githubtest.Bool(true)})
	cfg.AppID, cfg.PrivateKey, cfg.BaseURL = gh.AppID(), gh.PrivateKeyPEM(), gh.URL()
	app, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	app.sleep = s.sleep
	return gh, app, s
}

// sleeps records the retry waits of an App.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func getPR(ctx context.Context, t *testing.T, app *App, id int64) (*github.PullRequest, error) {
	t.Helper()
	c, err := app.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := c.PullRequests.Get(ctx, "acme", "fleet", 7)
	return pr, err
}

func TestAppJWTIsAcceptedAndBotLoginCached(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{AppSlug: "flux-diff"}, Config{})
	for range 2 {
		bot, err := app.BotLogin(ctx)
		if err != nil || bot != "flux-diff[bot]" {
			t.Fatalf("BotLogin = %q, %v; want flux-diff[bot]", bot, err)
		}
	}
	if n := gh.CountRequests("GET", "/app"); n != 1 {
		t.Errorf("GET /app sent %d times, want 1 (cached)", n)
	}
}

func TestInstallationTokenFetchedOnceAndClientsCached(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{}, Config{})
	c1, err := app.Installation(gh.InstallationID())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c2, _ := app.Installation(gh.InstallationID())
	if c1 != c2 {
		t.Error("Installation returned a new client for the same ID")
	}
	if n := gh.CountRequests("POST", tokenRoute); n != 1 {
		t.Errorf("token requested %d times, want 1", n)
	}
	if n := gh.CountRequests("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"); n != 4 {
		t.Errorf("pull request fetched %d times, want 4", n)
	}
	hc, err := app.InstallationHTTPClient(gh.InstallationID())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(gh.URL() + "repos/acme/fleet/pulls/7")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("raw GET with the installation HTTP client: %v", err)
	}
	resp.Body.Close()
	if n := gh.CountRequests("POST", tokenRoute); n != 1 {
		t.Errorf("token requested %d times after the HTTP client's call, want 1 (shared)", n)
	}
	if _, err := app.Installation(0); err == nil {
		t.Error("Installation(0) succeeded")
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{PathPrefix: "/api/v3"}, Config{})
	if !strings.HasSuffix(gh.URL(), "/api/v3/") {
		t.Fatalf("stand-in URL %s lacks /api/v3/", gh.URL())
	}
	if _, err := app.BotLogin(ctx); err != nil {
		t.Fatal(err)
	}
	if pr, err := getPR(ctx, t, app, gh.InstallationID()); err != nil || pr.GetNumber() != 7 {
		t.Fatalf("GET pull request through /api/v3: %v", err)
	}
	for _, r := range gh.Requests() {
		if r.Template == "" {
			t.Errorf("%s %s matched no route", r.Method, r.Path)
		}
	}
}

func TestTarballDownloadThroughInstallationClient(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{}, Config{})
	c, _ := app.Installation(gh.InstallationID())
	u, _, err := c.Repositories.GetArchiveLink(ctx, "acme", "fleet", github.Tarball, &github.RepositoryContentGetOptions{Ref: "main"}, false)
	if err != nil {
		t.Fatal(err)
	}
	hc, _ := app.InstallationHTTPClient(gh.InstallationID())
	resp, err := hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) == 0 || resp.Header.Get("Content-Type") != "application/x-gzip" {
		t.Errorf("download: status %d, %d bytes, %s", resp.StatusCode, len(b), resp.Header.Get("Content-Type"))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	cases := map[string]Config{
		"no app ID":        {PrivateKey: gh.PrivateKeyPEM()},
		"not a key":        {AppID: 1, PrivateKey: []byte("-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----\n")},
		"relative URL":     {AppID: 1, PrivateKey: gh.PrivateKeyPEM(), BaseURL: "ghe.example.com/api/v3"},
		"bad comment mode": {AppID: 1, PrivateKey: gh.PrivateKeyPEM(), CommentMode: "loud"},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if strings.Contains(err.Error(), "PRIVATE KEY") || !strings.HasPrefix(err.Error(), "githubapp: ") {
			t.Errorf("%s: error %q", name, err)
		}
	}
}
