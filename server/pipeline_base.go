package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
)

// trees are the source trees one pull request is diffed with: the
// test-merge commit's, and the base branch's that the changes are
// classified against ("" when it could not be had, or there is no pull
// request: changes are then shown unclassified). baseArts assembles the
// base tree's ExternalArtifacts (nil without a base tree).
type trees struct {
	merge, base string
	baseArts    *kube.ArtifactTrees
}

// withBase returns the trees of a diff of merge against base ("" for
// none); close removes the base artifacts it assembled.
func withBase(merge, base string) (roots trees, close func()) {
	roots = trees{merge: merge, base: base}
	if base == "" {
		return roots, func() {}
	}
	roots.baseArts = kube.NewArtifactTrees(base)
	return roots, func() { _ = roots.baseArts.Close() }
}

// baseOf returns the base to classify the targets ts with, which build
// from root: the base tree itself, or for an ExternalArtifact the same
// artifact assembled from the base tree as from the merge tree
// (ts[0].entry's copy rules; the targets of one group share them). Without
// a base tree both are "". When the artifact cannot be assembled from the
// base tree, baseErr says why (source-watcher would fail the same way on
// the base branch).
func (r trees) baseOf(ctx context.Context, ts []target) (base, baseErr string) {
	if ts[0].root == "" || r.base == "" {
		return r.base, ""
	}
	dir, err := r.baseArts.Root(ctx, ts[0].entry)
	if err != nil {
		return "", "the artifact could not be assembled from the base branch: " + err.Error()
	}
	return dir, ""
}

// baseTree fetches the tree of the base commit the test-merge commit was
// made on (githubapp.BaseOfMerge: its first parent), through the source
// cache, keyed by that SHA and so shared by every pull request on the same
// base. Without targets it fetches nothing. On success rep.Base names the
// commit; on failure the report gets a note and the diff goes on without
// classes. The returned release must be called when the diff is done.
func (p *Pipeline) baseTree(ctx context.Context, hc *http.Client, gh *github.Client, repo, mergeSHA string, ts []target, rep *diff.Report, log *slog.Logger) (dir string, release func()) {
	if len(ts) == 0 {
		return "", func() {} // nothing to diff, so nothing to classify
	}
	sha, err := githubapp.BaseOfMerge(ctx, gh, repo, mergeSHA)
	if err == nil {
		var tree *githubapp.Tree
		if tree, err = p.Sources.Tree(ctx, hc, gh, repo, sha); err == nil {
			rep.Base = sha
			return tree.Dir, tree.Release
		}
	}
	if ctx.Err() == nil {
		log.Warn("no base tree; changes are not told apart from drift", "error", err.Error())
		rep.Notes = append(rep.Notes, "The base branch's tree could not be fetched, so the changes below are not told apart "+
			"from drift already in the clusters: "+err.Error())
	}
	return "", func() {}
}
