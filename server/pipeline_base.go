package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp"
)

// trees are the source trees one pull request is diffed with: the
// test-merge commit's, and the base branch's that the changes are
// classified against ("" when it could not be had: changes are then
// shown unclassified).
type trees struct {
	merge, base string
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
