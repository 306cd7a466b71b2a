package githubtest_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v55/github"
	ghv88 "github.com/google/go-github/v88/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

// recorder is a testing.TB that records failures instead of failing, so a
// test can assert that the stand-in fails the test it serves.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

// Cleanup holds f until cleanup is called, so a test can observe what the
// stand-in reports at cleanup.
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); panic("fatal") }
func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// clients returns go-github clients authenticated as the App and as the
// server's installation, through ghinstallation as githubapp does.
func clients(t *testing.T, gh *githubtest.Server) (app, inst *github.Client) {
	t.Helper()
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, gh.AppID(), gh.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(gh.URL(), "/")
	itr := ghinstallation.NewFromAppsTransport(atr, gh.InstallationID())
	// ghinstallation sends "null" without options, which the description
	// does not allow; an empty object asks for the installation's defaults.
	itr.InstallationTokenOptions = &ghv88.InstallationTokenOptions{}
	app, inst = github.NewClient(&http.Client{Transport: atr}), github.NewClient(&http.Client{Transport: itr})
	for _, c := range []*github.Client{app, inst} {
		c.BaseURL = mustURL(t, gh.URL())
	}
	return app, inst
}

func fixture(t *testing.T, opts githubtest.Options) (*githubtest.Server, string) {
	gh := githubtest.New(t, opts)
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	base := gh.AddCommit("acme/fleet", "", map[string][]byte{"clusters/prod/flux-system/gotk-sync.yaml": []byte("kind: Kustomization\n")})
	head := gh.AddCommit("acme/fleet", "", map[string][]byte{
		"clusters/prod/flux-system/gotk-sync.yaml": []byte("kind: Kustomization\n"),
		"apps/podinfo/release.yaml":                []byte("kind: HelmRelease\n"),
	})
	var files []githubtest.File
	for i := range 5 {
		files = append(files, githubtest.File{Filename: fmt.Sprintf("apps/f%d.yaml", i), Status: "added", Additions: 1})
	}
	files[4] = githubtest.File{Filename: "apps/new.yaml", Status: "renamed", PreviousFilename: "apps/old.yaml"}
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{
		Number: 7, HeadSHA: head, BaseSHA: base, MergeCommitSHA: githubtest.SHA("merge"),
		Mergeable: githubtest.Bool(true), MergeableNullTimes: 2, Files: files,
	})
	return gh, head
}

func TestValidCallsPass(t *testing.T) {
	ctx := context.Background()
	for _, prefix := range []string{"", "/api/v3"} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			gh, head := fixture(t, githubtest.Options{PathPrefix: prefix})
			app, inst := clients(t, gh)

			a, _, err := app.Apps.Get(ctx, "")
			if err != nil || a.GetSlug() != "fluxdiff" {
				t.Fatalf("GET /app = %v, %v", a.GetSlug(), err)
			}
			for want := range 3 {
				pr, _, err := inst.PullRequests.Get(ctx, "acme", "fleet", 7)
				if err != nil {
					t.Fatal(err)
				}
				if got := pr.Mergeable != nil; got != (want == 2) {
					t.Errorf("GET %d: mergeable known = %v, want %v", want, got, want == 2)
				}
			}
			var names []string
			opt := &github.ListOptions{PerPage: 2}
			for {
				fs, resp, err := inst.PullRequests.ListFiles(ctx, "acme", "fleet", 7, opt)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					names = append(names, f.GetPreviousFilename()+">"+f.GetFilename())
				}
				if resp.NextPage == 0 {
					break
				}
				opt.Page = resp.NextPage
			}
			want := []string{">apps/f0.yaml", ">apps/f1.yaml", ">apps/f2.yaml", ">apps/f3.yaml", "apps/old.yaml>apps/new.yaml"}
			if d := cmp.Diff(want, names); d != "" {
				t.Errorf("files (-want +got):\n%s", d)
			}
			checkTarball(t, gh, inst, head)
		})
	}
}

func checkTarball(t *testing.T, gh *githubtest.Server, c *github.Client, sha string) {
	ctx := context.Background()
	u, _, err := c.Repositories.GetArchiveLink(ctx, "acme", "fleet", github.Tarball, &github.RepositoryContentGetOptions{Ref: sha}, false)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := gh.Client().Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			if h.PAXRecords["comment"] != sha {
				t.Errorf("pax comment = %q, want %s", h.PAXRecords["comment"], sha)
			}
			continue
		}
		got = append(got, h.Name)
	}
	top := "acme-fleet-" + sha[:7] + "/"
	want := []string{top, top + "apps/", top + "apps/podinfo/", top + "apps/podinfo/release.yaml",
		top + "clusters/", top + "clusters/prod/", top + "clusters/prod/flux-system/", top + "clusters/prod/flux-system/gotk-sync.yaml"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tarball entries (-want +got):\n%s", d)
	}
}
