package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-github/v55/github"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server/queue"
)

// GitHub is what the pipeline needs of the GitHub App: clients of an
// installation and the in-progress check run. *githubapp.App satisfies it.
type GitHub interface {
	Installation(id int64) (*github.Client, error)
	InstallationHTTPClient(id int64) (*http.Client, error)
	StartCheck(ctx context.Context, installationID int64, repo, headSHA string, refs githubapp.Refs) error
}

// Pipeline turns a pull request diff job into a Report: the pull request's
// facts, the merge commit's tree, the Kustomizations it affects in every
// cluster (index lookup, then selection), and one diff per Kustomization on
// its own cluster. It implements queue.Runner.
type Pipeline struct {
	// GitHub reaches the App's installations.
	GitHub GitHub
	// Sources caches the merge commits' trees.
	Sources *githubapp.SourceCache
	// Watcher is the index of every cluster's Kustomizations.
	Watcher *kube.Watcher
	// Selector picks the Kustomizations a pull request touches.
	Selector *kube.Selector
	// Clusters are the configured clusters, in configuration order.
	Clusters []*kube.Cluster
	// Refs records the check run; usually the store.
	Refs githubapp.Refs
	// Logger receives one line per step at debug and problems at warn.
	Logger *slog.Logger
	// MergePollTimeout bounds the wait for GitHub's test-merge commit.
	MergePollTimeout time.Duration
	// DiffConcurrency bounds the dry-runs of one Kustomization at once.
	DiffConcurrency int
	// DiffTimeout bounds the diff of one Kustomization (default 5m).
	DiffTimeout time.Duration
	// Tenancy covers remote targets and impersonation (pipeline_target.go).
	Tenancy Tenancy
	// Builds, when set, is shared with the Selector (NewCachingSelector) so
	// that what selection built is not built again by the diff.
	Builds *diff.BuildCache
	// Helm, when set, renders and diffs the HelmReleases a pull request
	// touches (see HelmRendering); nil diffs them as plain objects.
	Helm *HelmRendering

	clients clientCache
}

// RunPRDiff implements queue.Runner. Problems of single Kustomizations (a
// build error, an unavailable cluster) are rows of the report; a merge
// conflict is a report-wide error. The error return is for what a retry can
// fix (GitHub or the network failing), or queue.ErrSuperseded when the pull
// request has moved on.
func (p *Pipeline) RunPRDiff(ctx context.Context, job queue.PRJob) (queue.Result, error) {
	res, err := p.run(ctx, job)
	if err == nil || ctx.Err() != nil || errors.Is(err, queue.ErrSuperseded) {
		return res, err
	}
	if errors.Is(err, githubapp.ErrClosed) {
		return res, queue.Permanent(err) // nothing to tell a closed pull request
	}
	if githubapp.IsPermanent(err) {
		err = queue.Permanent(err)
	}
	if !job.LastAttempt && !queue.IsPermanent(err) {
		return res, err
	}
	// The queue gives up after this run: publish the failure rather than
	// leave the check run in progress and the pull request without word.
	p.logger().Error("diff failed for good; publishing the failure", "repo", job.Repo, "pr", job.PR, "sha", job.HeadSHA, "error", err.Error())
	rep := p.newReport(job)
	rep.Error = fmt.Sprintf("fluxdiff could not diff this pull request (attempt %d): %v", job.Attempt, err)
	return encodeResult(rep)
}

// run is one attempt of RunPRDiff.
func (p *Pipeline) run(ctx context.Context, job queue.PRJob) (queue.Result, error) {
	log := p.logger().With("job_id", job.JobID, "installation_id", job.InstallationID, "repo", job.Repo, "pr", job.PR, "sha", job.HeadSHA)
	gh, err := p.GitHub.Installation(job.InstallationID)
	if err != nil {
		return queue.Result{}, queue.Permanent(err)
	}
	rep := p.newReport(job)
	pr, err := githubapp.FetchPullRequest(ctx, gh, job.Repo, job.PR, githubapp.FetchOptions{HeadSHA: job.HeadSHA, MergePollTimeout: p.MergePollTimeout})
	if err != nil {
		return p.prProblem(job, rep, err)
	}
	fillPullRequest(rep, pr)
	// Only now, so that a closed pull request or a moved head leaves no
	// check run in progress behind.
	if err := p.GitHub.StartCheck(ctx, job.InstallationID, job.Repo, job.HeadSHA, p.Refs); err != nil {
		log.Warn("cannot mark the check run in progress; diffing anyway", "error", err.Error())
	}
	hc, err := p.GitHub.InstallationHTTPClient(job.InstallationID)
	if err != nil {
		return queue.Result{}, queue.Permanent(err)
	}
	tree, err := p.Sources.Tree(ctx, hc, gh, job.Repo, pr.MergeSHA)
	if err != nil {
		err = fmt.Errorf("source of %s at %s: %w", job.Repo, pr.MergeSHA, err)
		if errors.Is(err, githubapp.ErrArchiveTooLarge) || errors.Is(err, githubapp.ErrUnsafeArchive) {
			err = queue.Permanent(err) // the same archive again would fail the same way
		}
		return queue.Result{}, err
	}
	defer tree.Release()
	look := p.Watcher.Lookup(pr.BaseRepoURL, pr.BaseRef)
	arts := kube.NewArtifactTrees(tree.Dir) // ExternalArtifacts assembled from the tree
	defer func() { _ = arts.Close() }()
	targets, notes, err := p.targets(ctx, job, pr, tree.Dir, arts, look)
	if err != nil {
		return queue.Result{}, err
	}
	// Diffs stop a minute before the job's deadline, so that what was not
	// diffed by then is a row saying so and the report is still published.
	dctx, cancel := softDeadline(ctx, time.Minute)
	defer cancel()
	base, releaseBase := p.baseTree(ctx, hc, gh, job.Repo, pr.MergeSHA, targets, rep, log)
	defer releaseBase()
	roots, closeBase := withBase(tree.Dir, base)
	defer closeBase()
	rows, downNotes := p.diffTargets(dctx, job, roots, targets, look.Unavailable)
	if err := ctx.Err(); err != nil {
		return queue.Result{}, err // cancelled or timed out: the rows are not the real answer
	}
	rep.Notes = append(append(rep.Notes, notes...), downNotes...)
	rep.Kustomizations = rows
	log.Info("pull request diffed", "merge_sha", pr.MergeSHA, "kustomizations", len(rep.Kustomizations))
	return encodeResult(rep)
}

// prProblem turns a failure to learn the pull request's facts into a
// published report (a merge conflict: GitHub cannot make the merge result)
// or a job error.
func (p *Pipeline) prProblem(job queue.PRJob, rep *diff.Report, err error) (queue.Result, error) {
	switch {
	case errors.Is(err, githubapp.ErrMergeConflict):
		rep.Error = "This pull request has a merge conflict with its base branch, so there is no merge result to diff. " +
			"Resolve the conflict and push; fluxdiff diffs the new commit."
		return encodeResult(rep)
	case errors.Is(err, githubapp.ErrHeadMoved):
		return queue.Result{}, fmt.Errorf("%w: %w", queue.ErrSuperseded, err)
	case errors.Is(err, githubapp.ErrClosed):
		return queue.Result{}, queue.Permanent(err)
	}
	return queue.Result{}, err
}

func (p *Pipeline) newReport(job queue.PRJob) *diff.Report {
	rep := &diff.Report{
		SchemaVersion: diff.SchemaVersion, Created: time.Now().UTC(), Kustomizations: []diff.KustomizationReport{},
		PullRequest: &diff.PullRequestInfo{InstallationID: job.InstallationID, Repo: job.Repo, Number: job.PR,
			HeadSHA: job.HeadSHA, Trigger: job.Trigger, RequestedBy: job.RequestedBy},
	}
	for _, cl := range p.Clusters {
		rep.Clusters = append(rep.Clusters, cl.Name)
	}
	return rep
}

// fillPullRequest completes the report's pull request from GitHub's facts,
// keeping what the job knows (trigger, requester).
func fillPullRequest(rep *diff.Report, pr *githubapp.PullRequest) {
	info := pr.Info(rep.PullRequest.InstallationID)
	info.Trigger, info.RequestedBy = rep.PullRequest.Trigger, rep.PullRequest.RequestedBy
	rep.PullRequest = &info
}

func encodeResult(rep *diff.Report) (queue.Result, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return queue.Result{}, queue.Permanent(fmt.Errorf("encode report: %w", err))
	}
	res := queue.Result{Clusters: rep.Clusters, Report: body}
	if rep.PullRequest != nil {
		res.MergeSHA = rep.PullRequest.MergeSHA
	}
	return res, nil
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// NewSelector returns a kube.Selector that builds with the diff engine's
// Flux-faithful build and caches up to cacheSize read-sets.
func NewSelector(cacheSize int) *kube.Selector {
	return kube.NewSelector(func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error) {
		return diff.Build(root, ks, diff.BuildOptions{Ignore: ignore, WrapFS: wrap})
	}, cacheSize)
}

// softDeadline returns ctx with a deadline margin before ctx's own, when
// it has one.
func softDeadline(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-margin))
	}
	return context.WithCancel(ctx)
}
