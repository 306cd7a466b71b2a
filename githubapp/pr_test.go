package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

const pullRoute = "/repos/{owner}/{repo}/pulls/{pull_number}"
const filesRoute = "/repos/{owner}/{repo}/pulls/{pull_number}/files"

// prStandIn returns a stand-in holding acme/fleet (one commit on main) and
// the clients of its installation, made by an App as the server makes them.
func prStandIn(t *testing.T) (*githubtest.Server, *github.Client, *http.Client) {
	t.Helper()
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	gh.AddCommit("acme/fleet", "", map[string][]byte{"clusters/prod/kustomization.yaml": []byte("resources: []\n")})
	app, err := New(Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), BaseURL: gh.URL()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := app.Installation(gh.InstallationID())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := app.InstallationHTTPClient(gh.InstallationID())
	if err != nil {
		t.Fatal(err)
	}
	return gh, c, hc
}

// pollClock records the waits of the mergeability poll instead of
// sleeping; then, when set, runs after each wait (to change the fixture).
type pollClock struct {
	mu    sync.Mutex
	waits []time.Duration
	then  func(n int)
}

func (c *pollClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	n := len(c.waits)
	c.mu.Unlock()
	if c.then != nil {
		c.then(n)
	}
	return ctx.Err()
}

func TestFetchPullRequestWaitsForTheTestMerge(t *testing.T) {
	gh, c, _ := prStandIn(t)
	head := githubtest.SHA("head")
	merge := githubtest.SHA("merge")
	fixture := gh.AddPullRequest("acme/fleet", githubtest.PullRequest{
		Number: 7, Title: "Bump podinfo", User: "alice", HeadSHA: head, HeadRef: "bump",
		MergeCommitSHA: merge, Mergeable: githubtest.Bool(true), MergeableNullTimes: 3,
		Files: []githubtest.File{
			{Filename: "apps/podinfo/release.yaml", Status: "modified"},
			{Filename: "apps/new.yaml", Status: "added"},
			{Filename: "apps/old.yaml", Status: "removed"},
			{Filename: "apps/b.yaml", Status: "renamed", PreviousFilename: "apps/a.yaml"},
			{Filename: "apps/copy.yaml", Status: "copied", PreviousFilename: "apps/b.yaml"},
			{Filename: "hack/run.sh", Status: "changed"},
		},
	})
	if fixture.BaseSHA == "" {
		t.Fatal("the fixture has no base commit")
	}
	clock := &pollClock{}
	got, err := FetchPullRequest(context.Background(), c, "acme/fleet", 7, FetchOptions{HeadSHA: head, sleep: clock.sleep})
	if err != nil {
		t.Fatalf("FetchPullRequest: %v", err)
	}
	web := strings.TrimSuffix(gh.URL(), "/") + "/_web/"
	want := &PullRequest{
		Repo: "acme/fleet", Number: 7, Title: "Bump podinfo", Author: "alice",
		URL: web + "acme/fleet/pull/7", State: "open",
		HeadSHA: head, HeadRef: "bump", HeadRepo: "acme/fleet",
		BaseRef: "main", BaseSHA: fixture.BaseSHA,
		BaseRepoURL: web + "acme/fleet", CloneURL: web + "acme/fleet.git",
		MergeSHA: merge,
		Files: []FileChange{
			{Path: "apps/podinfo/release.yaml", Status: FileModified},
			{Path: "apps/new.yaml", Status: FileAdded},
			{Path: "apps/old.yaml", Status: FileRemoved},
			{Path: "apps/b.yaml", PreviousPath: "apps/a.yaml", Status: FileRenamed},
			{Path: "apps/copy.yaml", Status: FileAdded},
			{Path: "hack/run.sh", Status: FileModified},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pull request (-want +got):\n%s", d)
	}
	// Three answers with mergeable null, then the fourth: waits of 250ms,
	// 500ms and 1s between the four GETs.
	if d := cmp.Diff([]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}, clock.waits); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	if n := gh.CountRequests("GET", pullRoute); n != 4 {
		t.Errorf("%d GETs of the pull request, want 4", n)
	}
}

func TestFetchPullRequestPagesThroughFiles(t *testing.T) {
	for _, tt := range []struct {
		name          string
		files         int
		wantListed    int
		wantPages     int
		wantTruncated bool
	}{
		{name: "250 files take three pages of 100", files: 250, wantListed: 250, wantPages: 3},
		{name: "exactly 100 files take one page", files: 100, wantListed: 100, wantPages: 1},
		// GitHub lists at most 3,000 files; past that the pipeline must
		// diff everything, so the listing says it is incomplete.
		{name: "past 3000 files the list is cut", files: 3050, wantListed: 3000, wantPages: 30, wantTruncated: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh, c, _ := prStandIn(t)
			var files []githubtest.File
			for i := range tt.files {
				files = append(files, githubtest.File{Filename: fmt.Sprintf("apps/f%04d.yaml", i), Status: "added"})
			}
			gh.AddPullRequest("acme/fleet", githubtest.PullRequest{
				Number: 9, HeadSHA: githubtest.SHA("h"), MergeCommitSHA: githubtest.SHA("m"), Mergeable: githubtest.Bool(true), Files: files,
			})
			got, err := FetchPullRequest(context.Background(), c, "acme/fleet", 9, FetchOptions{})
			if err != nil {
				t.Fatalf("FetchPullRequest: %v", err)
			}
			if len(got.Files) != tt.wantListed || got.FilesTruncated != tt.wantTruncated {
				t.Errorf("listed %d files, truncated %v; want %d, %v", len(got.Files), got.FilesTruncated, tt.wantListed, tt.wantTruncated)
			}
			if len(got.Files) > 0 && got.Files[len(got.Files)-1].Path != fmt.Sprintf("apps/f%04d.yaml", tt.wantListed-1) {
				t.Errorf("last file %q is out of order", got.Files[len(got.Files)-1].Path)
			}
			var pages []string
			for _, r := range gh.Requests() {
				if r.Template == filesRoute {
					if r.Query.Get("per_page") != "100" {
						t.Errorf("files listed with per_page=%q, want 100", r.Query.Get("per_page"))
					}
					pages = append(pages, r.Query.Get("page"))
				}
			}
			if len(pages) != tt.wantPages {
				t.Errorf("%d pages requested (%v), want %d", len(pages), pages, tt.wantPages)
			}
		})
	}
}

func TestFetchPullRequestRefuses(t *testing.T) {
	head := githubtest.SHA("head")
	open := githubtest.PullRequest{Number: 7, HeadSHA: head, MergeCommitSHA: githubtest.SHA("merge"), Mergeable: githubtest.Bool(true)}
	with := func(f func(*githubtest.PullRequest)) githubtest.PullRequest { p := open; f(&p); return p }
	tests := []struct {
		name    string
		pr      githubtest.PullRequest
		opts    FetchOptions
		wantErr error
	}{
		{name: "a merge conflict", pr: with(func(p *githubtest.PullRequest) { p.Mergeable = githubtest.Bool(false); p.MergeableNullTimes = 1 }), wantErr: ErrMergeConflict},
		{name: "a closed pull request", pr: with(func(p *githubtest.PullRequest) { p.State = "closed" }), wantErr: ErrClosed},
		{name: "a merged pull request", pr: with(func(p *githubtest.PullRequest) { p.State, p.Merged = "closed", true }), wantErr: ErrClosed},
		{name: "a head that moved on", pr: open, opts: FetchOptions{HeadSHA: githubtest.SHA("older")}, wantErr: ErrHeadMoved},
		{name: "mergeability never computed", pr: with(func(p *githubtest.PullRequest) { p.Mergeable = nil }), opts: FetchOptions{MergePollTimeout: 10 * time.Second}, wantErr: ErrMergeNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh, c, _ := prStandIn(t)
			gh.AddPullRequest("acme/fleet", tt.pr)
			clock := &pollClock{}
			tt.opts.sleep = clock.sleep
			pr, err := FetchPullRequest(context.Background(), c, "acme/fleet", 7, tt.opts)
			if !errors.Is(err, tt.wantErr) || pr != nil {
				t.Fatalf("FetchPullRequest = %v, %v; want nil, %v", pr, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "acme/fleet#7") {
				t.Errorf("error %q does not name the pull request", err)
			}
		})
	}
}

func TestFetchPullRequestGivesUpAfterThePollTimeout(t *testing.T) {
	gh, c, _ := prStandIn(t)
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: githubtest.SHA("h")})
	clock := &pollClock{}
	_, err := FetchPullRequest(context.Background(), c, "acme/fleet", 7, FetchOptions{MergePollTimeout: 40 * time.Second, sleep: clock.sleep})
	var nr *MergeNotReadyError
	if !errors.As(err, &nr) || nr.Waited != 40*time.Second {
		t.Fatalf("error %v; want a *MergeNotReadyError after 40s", err)
	}
	// Doubling from 250ms, capped at 16s, the last wait cut to the timeout.
	want := []time.Duration{250, 500, 1000, 2000, 4000, 8000, 16000, 8250}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if d := cmp.Diff(want, clock.waits); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	if n := gh.CountRequests("GET", pullRoute); n != len(want)+1 {
		t.Errorf("%d GETs, want %d", n, len(want)+1)
	}
}

func TestFetchPullRequestNoticesAPushWhileWaiting(t *testing.T) {
	gh, c, _ := prStandIn(t)
	head, newer := githubtest.SHA("head"), githubtest.SHA("newer")
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: head, MergeCommitSHA: githubtest.SHA("m"), Mergeable: githubtest.Bool(true), MergeableNullTimes: 5})
	clock := &pollClock{then: func(n int) {
		if n == 2 {
			gh.UpdatePullRequest("acme/fleet", 7, func(p *githubtest.PullRequest) { p.HeadSHA = newer })
		}
	}}
	_, err := FetchPullRequest(context.Background(), c, "acme/fleet", 7, FetchOptions{HeadSHA: head, sleep: clock.sleep})
	var moved *HeadMovedError
	if !errors.As(err, &moved) || moved.Want != head || moved.Got != newer {
		t.Fatalf("error %v; want a *HeadMovedError from %s to %s", err, head, newer)
	}
}

func TestFetchPullRequestStopsWithTheContext(t *testing.T) {
	gh, c, _ := prStandIn(t)
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: githubtest.SHA("h")})
	ctx, cancel := context.WithCancel(context.Background())
	clock := &pollClock{then: func(int) { cancel() }}
	_, err := FetchPullRequest(ctx, c, "acme/fleet", 7, FetchOptions{sleep: clock.sleep})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", err)
	}
}

func TestFetchPullRequestOfAFork(t *testing.T) {
	gh, c, _ := prStandIn(t)
	gh.AddRepo(githubtest.Repo{Owner: "contributor", Name: "fleet"})
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{
		Number: 3, HeadSHA: githubtest.SHA("h"), HeadRef: "fix", HeadRepo: "contributor/fleet",
		MergeCommitSHA: githubtest.SHA("m"), Mergeable: githubtest.Bool(true), Draft: true,
	})
	got, err := FetchPullRequest(context.Background(), c, "acme/fleet", 3, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Fork || got.HeadRepo != "contributor/fleet" || got.HeadRef != "fix" || !got.Draft {
		t.Errorf("fork %v, head repo %q, head ref %q, draft %v; want a draft from contributor/fleet:fix", got.Fork, got.HeadRepo, got.HeadRef, got.Draft)
	}
}

func TestFetchPullRequestErrors(t *testing.T) {
	gh, c, _ := prStandIn(t)
	t.Run("a missing pull request is GitHub's 404, wrapped", func(t *testing.T) {
		_, err := FetchPullRequest(context.Background(), c, "acme/fleet", 404, FetchOptions{})
		var ge *github.ErrorResponse
		if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusNotFound {
			t.Fatalf("error %v; want a wrapped 404 *github.ErrorResponse", err)
		}
	})
	t.Run("a malformed repository name asks nothing of GitHub", func(t *testing.T) {
		before := len(gh.Requests())
		for _, repo := range []string{"acme", "acme/fleet/x", "../fleet", "acme/..", "acme/fl eet", ""} {
			if _, err := FetchPullRequest(context.Background(), c, repo, 1, FetchOptions{}); err == nil {
				t.Errorf("FetchPullRequest(%q) succeeded", repo)
			}
		}
		if n := len(gh.Requests()) - before; n != 0 {
			t.Errorf("%d requests made", n)
		}
	})
}
