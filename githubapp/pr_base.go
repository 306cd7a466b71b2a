package githubapp

import (
	"context"
	"fmt"

	"github.com/google/go-github/v55/github"
)

// BaseOfMerge returns the base commit of the test-merge commit mergeSHA of
// repo ("owner/name"): its first parent, the head of the base branch that
// GitHub merged the pull request into. It is read with
// GET /repos/{owner}/{repo}/commits/{ref} (one file per page: only the
// parents are wanted).
//
// The pull request's base.sha is not used: GitHub records it when the pull
// request is opened or its head is pushed, so after the base branch moves
// it names an older commit than the one the test merge was made on, and
// the cluster (reconciled from the newer one) would then show the base
// branch's own later changes as drift.
//
// Errors: the API error, wrapped; an error when the commit has no parent.
func BaseOfMerge(ctx context.Context, gh *github.Client, repo, mergeSHA string) (string, error) {
	owner, name, err := ownerAndName(repo)
	if err != nil {
		return "", err
	}
	c, _, err := gh.Repositories.GetCommit(ctx, owner, name, mergeSHA, &github.ListOptions{PerPage: 1})
	if err != nil {
		return "", fmt.Errorf("githubapp: commit %s of %s: %w", mergeSHA, repo, err)
	}
	if len(c.Parents) == 0 || c.Parents[0].GetSHA() == "" {
		return "", fmt.Errorf("githubapp: commit %s of %s has no parent to take as the base", mergeSHA, repo)
	}
	return c.Parents[0].GetSHA(), nil
}
