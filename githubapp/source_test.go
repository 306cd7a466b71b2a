package githubapp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

const tarballRoute = "/repos/{owner}/{repo}/tarball/{ref}"

// codeloadGets counts the downloads the stand-in served (they are outside
// the REST API, so they have no route template).
func codeloadGets(gh *githubtest.Server) int {
	n := 0
	for _, r := range gh.Requests() {
		if strings.HasPrefix(r.Path, "/_codeload/") {
			n++
		}
	}
	return n
}

// gatedClient wraps hc's transport so that downloads (requests for the
// stand-in's codeload) wait for open to be closed, or fail with fail, and
// records their URLs.
type gatedClient struct {
	next http.RoundTripper
	open chan struct{}
	fail error

	mu   sync.Mutex
	urls []string
}

func gate(hc *http.Client) (*http.Client, *gatedClient) {
	g := &gatedClient{next: hc.Transport, open: make(chan struct{})}
	return &http.Client{Transport: g}, g
}

func (g *gatedClient) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.Contains(r.URL.Path, "/_codeload/") {
		return g.next.RoundTrip(r)
	}
	g.mu.Lock()
	g.urls = append(g.urls, r.URL.String())
	g.mu.Unlock()
	select {
	case <-g.open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	if g.fail != nil {
		return nil, g.fail
	}
	return g.next.RoundTrip(r)
}

// waitPending waits until n callers wait for the download of key.
func waitPending(t *testing.T, c *SourceCache, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := c.pending[key]
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers waiting for %s, want %d", got, key, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSourceCacheExtractsTheCommit(t *testing.T) {
	gh, c, hc := prStandIn(t)
	files := map[string][]byte{
		"clusters/prod/flux-system/gotk-sync.yaml": []byte("kind: Kustomization\n"),
		"apps/podinfo/release.yaml":                []byte("kind: HelmRelease\n"),
	}
	sha := gh.AddCommit("acme/fleet", "", files)
	cache, err := NewSourceCache(t.TempDir(), 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The repository name is matched without regard to case, as GitHub does.
	for i, repo := range []string{"acme/fleet", "Acme/Fleet"} {
		tree, err := cache.Tree(ctx, hc, c, repo, sha)
		if err != nil {
			t.Fatalf("Tree(%s): %v", repo, err)
		}
		want := map[string]treeFile{
			"apps": {Mode: fs.ModeDir | 0o755}, "apps/podinfo": {Mode: fs.ModeDir | 0o755},
			"apps/podinfo/release.yaml": {Mode: 0o644, Body: "kind: HelmRelease\n"},
			"clusters":                  {Mode: fs.ModeDir | 0o755}, "clusters/prod": {Mode: fs.ModeDir | 0o755},
			"clusters/prod/flux-system":                {Mode: fs.ModeDir | 0o755},
			"clusters/prod/flux-system/gotk-sync.yaml": {Mode: 0o644, Body: "kind: Kustomization\n"},
		}
		got := readTree(t, tree.Dir)
		if umaskedDirs(got) {
			t.Skip("the umask takes bits off directories; run with umask 022")
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("call %d: tree (-want +got):\n%s", i, d)
		}
		tree.Release()
		tree.Release() // harmless
	}
	if n, m := gh.CountRequests("GET", tarballRoute), codeloadGets(gh); n != 1 || m != 1 {
		t.Errorf("%d tarball links and %d downloads, want one of each", n, m)
	}
}

func TestSourceCacheSharesOneDownload(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a: 1\n")})
	cache, err := NewSourceCache(t.TempDir(), 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ghc, g := gate(hc)
	const callers = 8
	dirs := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			tree, err := cache.Tree(context.Background(), ghc, c, "acme/fleet", sha)
			errs[i] = err
			if err == nil {
				dirs[i] = tree.Dir
				defer tree.Release()
			}
		})
	}
	waitPending(t, cache, "acme/fleet@"+sha, callers)
	close(g.open)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Errorf("caller %d: dir %q, error %v; want %q", i, dirs[i], errs[i], dirs[0])
		}
	}
	if n, m := gh.CountRequests("GET", tarballRoute), codeloadGets(gh); n != 1 || m != 1 {
		t.Errorf("%d tarball links and %d downloads for %d callers, want one of each", n, m, callers)
	}
}

func TestSourceCacheDownloadOutlivesACanceledCaller(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a: 1\n")})
	cache, err := NewSourceCache(t.TempDir(), 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ghc, g := gate(hc)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := cache.Tree(first, ghc, c, "acme/fleet", sha)
		firstErr <- err
	}()
	waitPending(t, cache, "acme/fleet@"+sha, 1)
	second := make(chan error, 1)
	go func() {
		tree, err := cache.Tree(context.Background(), ghc, c, "acme/fleet", sha)
		if err == nil {
			tree.Release()
		}
		second <- err
	}()
	waitPending(t, cache, "acme/fleet@"+sha, 2)
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: %v, want context.Canceled", err)
	}
	close(g.open)
	if err := <-second; err != nil {
		t.Errorf("waiting caller: %v", err)
	}
	if m := codeloadGets(gh); m != 1 {
		t.Errorf("%d downloads, want 1", m)
	}
}

// treeOf fetches acme/fleet at sha from cache and fails the test on error.
func treeOf(t *testing.T, cache *SourceCache, hc *http.Client, c *github.Client, sha string) *Tree {
	t.Helper()
	tree, err := cache.Tree(context.Background(), hc, c, "acme/fleet", sha)
	if err != nil {
		t.Fatalf("Tree(%s): %v", sha, err)
	}
	return tree
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestSourceCacheEvictsLeastRecentlyUsedTreesNotInUse(t *testing.T) {
	gh, c, hc := prStandIn(t)
	commit := func(s string) string {
		return gh.AddCommit("acme/fleet", "", map[string][]byte{"f": []byte(strings.Repeat(s, 100))})
	}
	a, b, cc := commit("a"), commit("b"), commit("c")
	cache, err := NewSourceCache(t.TempDir(), 250, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ta := treeOf(t, cache, hc, c, a) // held throughout
	tb := treeOf(t, cache, hc, c, b)
	tb.Release()
	tc := treeOf(t, cache, hc, c, cc) // 300 bytes: b goes, a is in use
	if exists(tb.Dir) || !exists(ta.Dir) || !exists(tc.Dir) {
		t.Fatalf("after c: a %v, b %v, c %v; want a and c kept, b evicted", exists(ta.Dir), exists(tb.Dir), exists(tc.Dir))
	}
	if body, err := os.ReadFile(filepath.Join(ta.Dir, "f")); err != nil || string(body) != strings.Repeat("a", 100) {
		t.Errorf("tree a in use was disturbed: %q, %v", body, err)
	}
	tc.Release()
	ta.Release() // 200 bytes fit: nothing goes
	if !exists(ta.Dir) || !exists(tc.Dir) {
		t.Fatalf("after releases: a %v, c %v; want both kept", exists(ta.Dir), exists(tc.Dir))
	}
	tb = treeOf(t, cache, hc, c, b) // downloaded again; a was used least recently
	defer tb.Release()
	if exists(ta.Dir) || !exists(tc.Dir) || !exists(tb.Dir) {
		t.Errorf("after b again: a %v, b %v, c %v; want a evicted", exists(ta.Dir), exists(tb.Dir), exists(tc.Dir))
	}
	if m := codeloadGets(gh); m != 4 {
		t.Errorf("%d downloads, want 4 (a, b, c, b again)", m)
	}
	if entries, _ := os.ReadDir(cache.tmp); len(entries) != 0 {
		t.Errorf("tmp/ holds %d leftovers", len(entries))
	}
}

func TestSourceCacheKeepsATreeLargerThanTheBoundWhileInUse(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"big": []byte(strings.Repeat("x", 100))})
	cache, err := NewSourceCache(t.TempDir(), 50, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tree := treeOf(t, cache, hc, c, sha)
	if !exists(filepath.Join(tree.Dir, "big")) {
		t.Fatal("tree in use was evicted")
	}
	tree.Release()
	if exists(tree.Dir) {
		t.Error("tree over the bound kept after release")
	}
}

func TestSourceCacheReopens(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a: 1\n")})
	dir := t.TempDir()
	cache, err := NewSourceCache(dir, 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	treeOf(t, cache, hc, c, sha).Release()
	// What a crash leaves: an extraction in progress, and a stray entry.
	for _, p := range []string{"tmp/fill-123/tree/a.yaml", "trees/acme/fleet/not-a-sha/x", "trees/acme/fleet/" + strings.Repeat("0", 40)} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reopened, err := NewSourceCache(dir, 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"tmp/fill-123", "trees/acme/fleet/not-a-sha", "trees/acme/fleet/" + strings.Repeat("0", 40)} {
		if exists(filepath.Join(dir, p)) {
			t.Errorf("%s survived the reopening", p)
		}
	}
	tree := treeOf(t, reopened, hc, c, sha)
	defer tree.Release()
	if b, err := os.ReadFile(filepath.Join(tree.Dir, "a.yaml")); err != nil || string(b) != "a: 1\n" {
		t.Errorf("kept tree: %q, %v", b, err)
	}
	if m := codeloadGets(gh); m != 1 {
		t.Errorf("%d downloads, want 1: the tree from before should be reused", m)
	}
}

func TestSourceCacheErrors(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte(strings.Repeat("a: 1\n", 1000))})
	ctx := context.Background()
	newCache := func(lim Limits) (*SourceCache, string) {
		dir := t.TempDir()
		cache, err := NewSourceCache(dir, 0, lim)
		if err != nil {
			t.Fatal(err)
		}
		return cache, dir
	}
	t.Run("an unknown commit is GitHub's 404", func(t *testing.T) {
		cache, _ := newCache(Limits{})
		_, err := cache.Tree(ctx, hc, c, "acme/fleet", strings.Repeat("f", 40))
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("error %v; want GitHub's 404", err)
		}
		noSecrets(t, gh, err)
	})
	t.Run("a malformed commit or repository asks nothing of GitHub", func(t *testing.T) {
		cache, _ := newCache(Limits{})
		before := len(gh.Requests())
		for _, tc := range [][2]string{{"acme/fleet", "main"}, {"acme/fleet", "../" + sha[3:]}, {"acme/fleet", sha[:12]}, {"../x", sha}} {
			if _, err := cache.Tree(ctx, hc, c, tc[0], tc[1]); err == nil {
				t.Errorf("Tree(%q, %q) succeeded", tc[0], tc[1])
			}
		}
		if n := len(gh.Requests()) - before; n != 0 {
			t.Errorf("%d requests made", n)
		}
	})
	t.Run("an archive over the limit leaves nothing behind", func(t *testing.T) {
		cache, dir := newCache(Limits{MaxArchiveBytes: 100})
		_, err := cache.Tree(ctx, hc, c, "acme/fleet", sha)
		if !errors.Is(err, ErrArchiveTooLarge) {
			t.Fatalf("error %v; want ErrArchiveTooLarge", err)
		}
		for _, sub := range []string{"tmp", "trees"} {
			if entries, _ := os.ReadDir(filepath.Join(dir, sub)); len(entries) != 0 {
				t.Errorf("%s/ holds %d leftovers", sub, len(entries))
			}
		}
	})
}

func TestSourceCacheDownloadErrorsNameNoToken(t *testing.T) {
	gh, c, hc := prStandIn(t)
	sha := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a: 1\n")})
	ctx := context.Background()
	cache, err := NewSourceCache(t.TempDir(), 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ghc, g := gate(hc)
	g.fail = fmt.Errorf("connection reset by peer")
	close(g.open)
	_, err = cache.Tree(ctx, ghc, c, "acme/fleet", sha)
	if err == nil || !strings.Contains(err.Error(), "connection reset by peer") {
		t.Fatalf("error %v; want the download's failure", err)
	}
	if len(g.urls) != 1 || !strings.Contains(g.urls[0], "token=") {
		t.Fatalf("downloads %q; want one address with a token", g.urls)
	}
	token := g.urls[0][strings.Index(g.urls[0], "token=")+len("token="):]
	noSecrets(t, gh, err, token, "token=")
	// Nothing was cached: the next call downloads.
	if _, err := cache.Tree(ctx, hc, c, "acme/fleet", sha); err != nil {
		t.Errorf("Tree after the failure: %v", err)
	}
}

// noSecrets fails t when err's text holds an installation token of gh or
// one of more.
func noSecrets(t *testing.T, gh *githubtest.Server, err error, more ...string) {
	t.Helper()
	for _, s := range append(gh.Tokens(), more...) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds the secret %q", err, s)
		}
	}
}

// TestPullRequestMergeTree takes the pipeline's first two steps: the facts
// of a pull request, then the source tree of its test-merge commit, which
// holds both the base's newer change and the pull request's.
func TestPullRequestMergeTree(t *testing.T) {
	gh, c, hc := prStandIn(t)
	ctx := context.Background()
	base := gh.AddCommit("acme/fleet", "", map[string][]byte{
		"apps/a.yaml": []byte("a: 1\n"), "apps/b.yaml": []byte("b: 1\n"), "apps/gone.yaml": []byte("x: 1\n"),
	})
	head := gh.AddCommit("acme/fleet", "", map[string][]byte{
		"apps/a.yaml": []byte("a: 2\n"), "apps/b.yaml": []byte("b: 1\n"), "apps/new.yaml": []byte("n: 1\n"),
	})
	merge := gh.AddCommit("acme/fleet", "", map[string][]byte{
		"apps/a.yaml": []byte("a: 2\n"), "apps/b.yaml": []byte("b: 3\n"), "apps/new.yaml": []byte("n: 1\n"),
	})
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{
		Number: 12, BaseSHA: base, HeadSHA: head, MergeCommitSHA: merge, Mergeable: githubtest.Bool(true),
	})
	pr, err := FetchPullRequest(ctx, c, "acme/fleet", 12, FetchOptions{HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []FileChange{
		{Path: "apps/a.yaml", Status: FileModified},
		{Path: "apps/gone.yaml", Status: FileRemoved},
		{Path: "apps/new.yaml", Status: FileAdded},
	}
	if d := cmp.Diff(wantFiles, pr.Files, cmpopts.SortSlices(func(a, b FileChange) bool { return a.Path < b.Path })); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	tree, err := NewSourceCache(t.TempDir(), 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := tree.Tree(ctx, hc, c, pr.Repo, pr.MergeSHA)
	if err != nil {
		t.Fatal(err)
	}
	defer mt.Release()
	got := map[string]string{}
	for p, f := range readTree(t, mt.Dir) {
		if f.Mode.IsRegular() {
			got[p] = f.Body
		}
	}
	want := map[string]string{"apps/a.yaml": "a: 2\n", "apps/b.yaml": "b: 3\n", "apps/new.yaml": "n: 1\n"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merge tree (-want +got):\n%s", d)
	}
}
