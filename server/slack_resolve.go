package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
)

// userError is a problem with what a person asked for; its text is shown
// to them as is.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func userErrorf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...)}
}

// findKustomization returns the index entries of the command's
// Kustomization (one per cluster holding it, or only --cluster's). When
// there is none it fails with a userError naming the closest names.
func (s *Slack) findKustomization(cmd chat.Command) ([]*kube.Entry, error) {
	all := s.Pipeline.Watcher.Index().List("")
	if cmd.Cluster != "" && !slices.ContainsFunc(s.Pipeline.Clusters, func(c *kube.Cluster) bool { return c.Name == cmd.Cluster }) {
		return nil, userErrorf("There is no cluster `%s`; the clusters are %s.", cmd.Cluster, clusterNames(s.Pipeline.Clusters))
	}
	var found []*kube.Entry
	for _, e := range all {
		if e.Name == cmd.Name && e.Namespace == cmd.Namespace && (cmd.Cluster == "" || e.Cluster == cmd.Cluster) {
			found = append(found, e)
		}
	}
	if len(found) > 0 {
		return found, nil
	}
	where := "in any cluster"
	if cmd.Cluster != "" {
		where = "in cluster `" + cmd.Cluster + "`"
	}
	msg := fmt.Sprintf("There is no Kustomization `%s/%s` %s.", cmd.Namespace, cmd.Name, where)
	if near := closestNames(cmd.Namespace+"/"+cmd.Name, all, cmd.Cluster, 3); len(near) > 0 {
		msg += " Did you mean " + strings.Join(near, ", ") + "?"
	}
	for _, st := range s.Pipeline.Watcher.Status() {
		if !st.OK() {
			msg += fmt.Sprintf(" (Cluster `%s` cannot be asked right now; it may hold it.)", st.Name)
		}
	}
	return nil, &userError{msg: msg}
}

func clusterNames(cls []*kube.Cluster) string {
	names := make([]string, 0, len(cls))
	for _, c := range cls {
		names = append(names, "`"+c.Name+"`")
	}
	return strings.Join(names, ", ")
}

// closestNames returns up to n "`namespace/name`" of entries (of cluster,
// when set) nearest to want ("namespace/name") by edit distance, nearest
// first. The distance is the names' (plus one for another namespace) or
// the whole strings', the smaller; names further than half the wanted
// name's length (at least 2) are left out.
func closestNames(want string, entries []*kube.Entry, cluster string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	wantNS, wantName, _ := strings.Cut(want, "/")
	limit := max(2, len([]rune(wantName))/2)
	seen := map[string]bool{}
	var cs []cand
	for _, e := range entries {
		name := e.Namespace + "/" + e.Name
		if seen[name] || (cluster != "" && e.Cluster != cluster) {
			continue
		}
		seen[name] = true
		d := editDistance(wantName, e.Name)
		if e.Namespace != wantNS {
			d++
		}
		if d = min(d, editDistance(want, name)); d <= limit {
			cs = append(cs, cand{name, d})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.name, b.name)) })
	var out []string
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, "`"+c.name+"`")
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// source is what a command diffs: a pull request's merge commit, or a
// branch head.
type source struct {
	installationID int64
	// repo is "owner/name"; branch the branch diffed (the pull request's
	// base, or the branch itself).
	repo, branch string
	// pr is the pull request; nil for a branch head.
	pr *githubapp.PullRequest
	// sha is the commit to build: the test-merge commit or the head.
	sha string
}

// repoOf returns "owner/name" of a normalized repository URL
// ("github.com/owner/name").
func repoOf(normalized string) (string, bool) {
	parts := strings.Split(strings.Trim(normalized, "/"), "/")
	if len(parts) < 3 {
		return "", false
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1], true
}

// entrySource returns the repository and branch the entries read; they
// must agree, or the person must pick one cluster.
func entrySource(entries []*kube.Entry) (repo, branch string, err error) {
	first := entries[0]
	for _, e := range entries[1:] {
		if e.Repo != first.Repo || e.Branch != first.Branch {
			return "", "", userErrorf("Kustomization `%s/%s` reads `%s` at `%s` in cluster `%s` but `%s` at `%s` in cluster `%s`: pick one with `--cluster`.",
				first.Namespace, first.Name, first.URL, first.Branch, first.Cluster, e.URL, e.Branch, e.Cluster)
		}
	}
	if first.Repo == "" {
		return "", "", userErrorf("Kustomization `%s/%s` does not read a GitRepository fluxdiff can fetch: %s", first.Namespace, first.Name, cmp.Or(first.Reason, "unknown source"))
	}
	repo, ok := repoOf(first.Repo)
	if !ok {
		return "", "", userErrorf("Kustomization `%s/%s` reads `%s`, which is not a GitHub repository.", first.Namespace, first.Name, first.URL)
	}
	return repo, first.Branch, nil
}

// resolveSource finds what to diff: ref's pull request (by number, URL or
// branch; a branch without an open pull request is diffed at its head), or
// without ref the branch the Kustomization follows (a drift check).
func (s *Slack) resolveSource(ctx context.Context, ref *chat.Ref, repo, branch string) (source, error) {
	owner, name, _ := strings.Cut(repo, "/")
	inst, _, err := s.GitHub.AppClient().Apps.FindRepositoryInstallation(ctx, owner, name)
	if err != nil {
		if notFound(err) {
			return source{}, userErrorf("The GitHub App is not installed on `%s`.", repo)
		}
		return source{}, fmt.Errorf("installation of %s: %w", repo, err)
	}
	src := source{installationID: inst.GetID(), repo: repo, branch: branch}
	gh, err := s.GitHub.Installation(src.installationID)
	if err != nil {
		return source{}, err
	}
	switch {
	case ref == nil && branch == "":
		return source{}, userErrorf("The Kustomization's GitRepository follows no branch (a tag, semver range or commit): give `--github-ref`.")
	case ref == nil:
		return s.branchHead(ctx, gh, src)
	case ref.Kind == chat.RefURL && !strings.EqualFold(ref.Repo, repo):
		return source{}, userErrorf("%s is a pull request of `%s`, but the Kustomization reads `%s`.", ref.Raw, ref.Repo, repo)
	case ref.Kind == chat.RefBranch:
		prs, _, err := gh.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{State: "open", Head: owner + ":" + ref.Branch})
		if err != nil {
			return source{}, fmt.Errorf("pull requests of %s from %s: %w", repo, ref.Branch, err)
		}
		if len(prs) == 0 {
			src.branch = ref.Branch
			return s.branchHead(ctx, gh, src)
		}
		return s.pullRequest(ctx, gh, src, prs[0].GetNumber())
	}
	return s.pullRequest(ctx, gh, src, ref.Number)
}

func (s *Slack) branchHead(ctx context.Context, gh *github.Client, src source) (source, error) {
	owner, name, _ := strings.Cut(src.repo, "/")
	r, _, err := gh.Git.GetRef(ctx, owner, name, "heads/"+src.branch)
	if notFound(err) {
		return source{}, userErrorf("`%s` has no open pull request from branch `%s` and no such branch.", src.repo, src.branch)
	}
	if err != nil {
		return source{}, fmt.Errorf("branch %s of %s: %w", src.branch, src.repo, err)
	}
	src.sha = r.GetObject().GetSHA()
	return src, nil
}

func (s *Slack) pullRequest(ctx context.Context, gh *github.Client, src source, number int) (source, error) {
	pr, err := githubapp.FetchPullRequest(ctx, gh, src.repo, number, githubapp.FetchOptions{MergePollTimeout: s.Pipeline.MergePollTimeout})
	switch {
	case notFound(err):
		return source{}, userErrorf("`%s` has no pull request #%d.", src.repo, number)
	case errors.Is(err, githubapp.ErrClosed):
		return source{}, userErrorf("Pull request %s#%d is closed.", src.repo, number)
	case errors.Is(err, githubapp.ErrMergeConflict):
		return source{}, userErrorf("Pull request %s#%d has a merge conflict with its base branch, so there is no merge result to diff.", src.repo, number)
	case err != nil:
		return source{}, err
	}
	if pr.Fork && !s.AllowForks {
		return source{}, userErrorf("Pull request %s#%d comes from a fork; fluxdiff diffs forks only with `github.allowForks: true`.", src.repo, number)
	}
	src.pr, src.sha, src.branch = pr, pr.MergeSHA, pr.BaseRef
	return src, nil
}

func notFound(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound
}
