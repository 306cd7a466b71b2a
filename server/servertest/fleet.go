// Package servertest runs a fluxdiff world on local parts: control planes
// (real kube-apiserver and etcd) bootstrapped from a Flux repository as
// kustomize-controller leaves them, the GitHub stand-in holding that
// repository, pull requests on it and signed webhook deliveries. The
// end-to-end tests and `fluxdiff demo` use it.
package servertest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Owner and Name of the fixture repository on the GitHub stand-in.
const (
	Owner = "acme"
	Name  = "fleet"
	// Repo is "owner/name".
	Repo = Owner + "/" + Name
)

// ModuleRoot is the fluxdiff checkout this package was built from.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ExampleRepo is the copy of Flux's official example repository (classic
// layout) in testdata.
func ExampleRepo() string {
	return filepath.Join(ModuleRoot(), "testdata", "realrepos", "flux2-kustomize-helm-example-classic")
}

// ExampleRepo27 is the copy of Flux's official example repository in its
// Flux 2.7 layout (ArtifactGenerator → ExternalArtifact sources) in
// testdata.
func ExampleRepo27() string {
	return filepath.Join(ModuleRoot(), "testdata", "realrepos", "flux2-kustomize-helm-example-2.7")
}

// Fleet is the GitHub stand-in holding the fixture repository and one
// control plane per cluster, each bootstrapped at clusters/NAME of the
// repository's base branch.
type Fleet struct {
	// GitHub is the stand-in.
	GitHub *githubtest.Server
	// Names are the clusters in the order given; Envs their control planes.
	Names []string
	Envs  map[string]*kubetest.Env
	// Base is the base branch's files; BaseSHA its commit.
	Base    map[string][]byte
	BaseSHA string

	mu     sync.Mutex
	opened map[int]bool
}

// StartFleet starts the stand-in and one control plane per cluster name
// (in parallel), installs the stand-in CRDs the example repository's kinds
// need, and bootstraps each cluster from repoDir. Everything stops through
// r.Cleanup. kubetest.ErrNoBinaries means the API server binaries are
// missing.
func StartFleet(ctx context.Context, r githubtest.Reporter, repoDir string, clusters ...string) (*Fleet, error) {
	gh, err := githubtest.Start(r, githubtest.Options{SpecPath: filepath.Join(ModuleRoot(), filepath.FromSlash(githubtest.SpecFile))})
	if err != nil {
		return nil, err
	}
	f := &Fleet{GitHub: gh, Names: clusters, Envs: map[string]*kubetest.Env{}, opened: map[int]bool{}}
	gh.AddRepo(githubtest.Repo{Owner: Owner, Name: Name})
	if f.Base, err = ReadTree(repoDir); err != nil {
		return nil, err
	}
	f.BaseSHA = gh.AddCommit(Repo, "", f.Base)
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i, name := range clusters {
		wg.Go(func() {
			env, err := startCluster(ctx, r, name, gh.HTMLURL(Repo)+".git", repoDir, f.BaseSHA)
			errs[i] = err
			if err == nil {
				f.mu.Lock()
				f.Envs[name] = env
				f.mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

func startCluster(ctx context.Context, r githubtest.Reporter, name, url, repoDir, sha string) (*kubetest.Env, error) {
	env, err := kubetest.Start()
	if err != nil {
		return nil, err
	}
	r.Cleanup(func() { _ = env.Stop() })
	if err := env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		return nil, err
	}
	_, err = fluxsim.BootstrapCluster(ctx, env.Client, repoDir, fluxsim.Bootstrap{
		URL: url, Branch: "main", Path: "./clusters/" + name, Revision: sha,
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: %w", name, err)
	}
	if err := installReleases(ctx, env); err != nil {
		return nil, fmt.Errorf("bootstrap %s: %w", name, err)
	}
	return env, nil
}

// PR is a pull request to open on the stand-in.
type PR struct {
	Number int
	Title  string
	// User is the author's login (default "octocat").
	User string
	// Changes are the files it changes relative to the base branch; nil
	// content removes the file.
	Changes map[string][]byte
	// Mergeable is what GitHub computes (default true; false: a conflict).
	Mergeable *bool
}

// Open adds the pull request's head and test-merge commits and the pull
// request itself, and returns the head SHA. Opening a number again is a
// push to it.
func (f *Fleet) Open(p PR) (head string) {
	merged := make(map[string][]byte, len(f.Base)+len(p.Changes))
	for k, v := range f.Base {
		merged[k] = v
	}
	var files []githubtest.File
	for path, body := range p.Changes {
		status := "modified"
		if _, ok := f.Base[path]; !ok {
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
	// Distinct SHAs for every push, even of the same content.
	merged[fmt.Sprintf(".pr-%d", p.Number)] = []byte(fmt.Sprint(time.Now().UnixNano()))
	head = f.GitHub.AddCommit(Repo, "", merged)
	merged[".merge"] = []byte(head)
	mergeSHA := f.GitHub.AddCommit(Repo, "", merged)
	// As on GitHub: the head branches off the base, and the test-merge
	// commit's first parent is the base branch head it was merged into.
	f.GitHub.SetParents(Repo, head, f.BaseSHA)
	f.GitHub.SetParents(Repo, mergeSHA, f.BaseSHA, head)
	mergeable := p.Mergeable
	if mergeable == nil {
		mergeable = githubtest.Bool(true)
	}
	f.mu.Lock()
	again := f.opened[p.Number]
	f.opened[p.Number] = true
	f.mu.Unlock()
	if again {
		f.GitHub.UpdatePullRequest(Repo, p.Number, func(x *githubtest.PullRequest) {
			x.HeadSHA, x.MergeCommitSHA, x.Mergeable, x.MergeableNullTimes, x.Files = head, mergeSHA, mergeable, 1, files
		})
		return head
	}
	f.GitHub.AddPullRequest(Repo, githubtest.PullRequest{
		Number: p.Number, Title: p.Title, User: p.User, HeadSHA: head, BaseSHA: f.BaseSHA,
		MergeCommitSHA: mergeSHA, Mergeable: mergeable, MergeableNullTimes: 1, Files: files,
	})
	return head
}

// WaitCheck waits until the check run named name of sha is completed.
func (f *Fleet) WaitCheck(ctx context.Context, sha, name string) (githubtest.CheckRun, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, cr := range f.GitHub.CheckRuns(Repo) {
			if cr.HeadSHA == sha && cr.Name == name && cr.Status == "completed" {
				return cr, nil
			}
		}
		select {
		case <-ctx.Done():
			return githubtest.CheckRun{}, fmt.Errorf("no completed %s check run for %s: %w", name, sha, ctx.Err())
		case <-tick.C:
		}
	}
}

// ReadTree reads the regular files under dir (slash-separated relative
// paths → content).
func ReadTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}

// WriteTree writes files (slash-separated relative paths → content, as
// ReadTree returns them) under dir, creating folders as needed.
func WriteTree(dir string, files map[string][]byte) error {
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
