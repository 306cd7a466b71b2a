package githubapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
)

// prCommentKey is the Refs key of a pull request's sticky comment:
// "owner/name#N". Its external ID is the comment IDs of the parts in order,
// comma-separated ("123,456"); the first is part 1.
func prCommentKey(repo string, number int) string { return fmt.Sprintf("%s#%d", repo, number) }

// Publish publishes rep, the report of rep.PullRequest (which gives the
// installation, repository, number and head SHA; it must be set): it
// completes the check run of the head commit (see StartCheck) and then
// writes the sticky comment by the repository's comment mode
// (Config.CommentModeFor): "auto" the full diff, "summary" the counts
// table, "manual" nothing new but an existing comment is still updated
// (with the full diff). reportID is saved with the refs (0: none). Both
// steps are attempted; their errors are joined.
func (a *App) Publish(ctx context.Context, rep *diff.Report, reportID int64, refs Refs) error {
	if err := checkReport(rep); err != nil {
		return err
	}
	gh, err := a.Installation(rep.PullRequest.InstallationID)
	if err != nil {
		return err
	}
	mode := a.cfg.CommentModeFor(rep.PullRequest.Repo)
	checkErr := a.completeCheck(ctx, gh, rep, reportID, refs, mode == CommentAuto)
	commentErr := a.syncComment(ctx, gh, rep, reportID, refs, mode)
	return errors.Join(checkErr, commentErr)
}

// PostComment writes the sticky comment of rep like Publish, but in
// "manual" mode it posts one (with the full diff) even when there is none
// yet: it is what a person asks for, e.g. with Slack's "Post diff to PR".
// The check run is not touched.
func (a *App) PostComment(ctx context.Context, rep *diff.Report, reportID int64, refs Refs) error {
	if err := checkReport(rep); err != nil {
		return err
	}
	gh, err := a.Installation(rep.PullRequest.InstallationID)
	if err != nil {
		return err
	}
	mode := a.cfg.CommentModeFor(rep.PullRequest.Repo)
	if mode == CommentManual {
		mode = CommentAuto
	}
	return a.syncComment(ctx, gh, rep, reportID, refs, mode)
}

func checkReport(rep *diff.Report) error {
	if rep == nil || rep.PullRequest == nil {
		return errors.New("githubapp: the report has no pull request")
	}
	if rep.PullRequest.Number <= 0 || rep.PullRequest.HeadSHA == "" {
		return fmt.Errorf("githubapp: the report's pull request %s#%d has no number or head SHA",
			rep.PullRequest.Repo, rep.PullRequest.Number)
	}
	return nil
}

// stickyComment is a comment of ours holding a part of the sticky comment.
type stickyComment struct {
	id   int64
	part int // 1-based; from the marker, or the position in the refs
	body string
	// listed is false for an ID known only from refs (body unknown).
	listed bool
}

// syncComment makes the pull request's sticky comment show rep in mode:
// existing parts are updated in place (unchanged ones are not touched),
// missing parts created, surplus parts deleted, and the IDs saved.
func (a *App) syncComment(ctx context.Context, gh *github.Client, rep *diff.Report, reportID int64, refs Refs, mode string) error {
	pr := rep.PullRequest
	owner, name, err := splitRepo(pr.Repo)
	if err != nil {
		return err
	}
	existing, err := a.findSticky(ctx, gh, owner, name, pr, refs)
	if err != nil {
		return err
	}
	nothing := rep.Error == "" && len(rep.Kustomizations) == 0
	if len(existing) == 0 && (mode == CommentManual || nothing) {
		return nil
	}
	parts := RenderComment(rep, RenderOptions{Summary: mode == CommentSummary, CheckRunName: a.cfg.CheckRunName})
	ids := make([]string, len(parts))
	for i, body := range parts {
		var old *stickyComment
		if i < len(existing) {
			old = &existing[i]
		}
		id, err := a.writePart(ctx, gh, owner, name, pr.Number, old, body)
		if err != nil {
			return err
		}
		ids[i] = strconv.FormatInt(id, 10)
	}
	key := prCommentKey(pr.Repo, pr.Number)
	if err := refs.SaveRef(ctx, RefPRComment, key, strings.Join(ids, ","), reportID); err != nil {
		return fmt.Errorf("githubapp: save comment ref %s: %w", key, err)
	}
	for _, old := range existing[min(len(parts), len(existing)):] {
		if _, err := gh.Issues.DeleteComment(ctx, owner, name, old.id); err != nil && !isNotFound(err) {
			return fmt.Errorf("githubapp: delete surplus comment %d on %s: %w", old.id, key, err)
		}
	}
	return nil
}

// writePart updates old to body, or creates a comment when there is no
// old one or it is gone (404); it returns the comment's ID.
func (a *App) writePart(ctx context.Context, gh *github.Client, owner, name string, number int, old *stickyComment, body string) (int64, error) {
	if old != nil {
		if old.listed && old.body == body {
			return old.id, nil
		}
		_, _, err := gh.Issues.EditComment(ctx, owner, name, old.id, &github.IssueComment{Body: &body})
		if err == nil {
			return old.id, nil
		}
		if !isNotFound(err) {
			return 0, fmt.Errorf("githubapp: update comment %d on %s/%s#%d: %w", old.id, owner, name, number, err)
		}
	}
	c, _, err := gh.Issues.CreateComment(ctx, owner, name, number, &github.IssueComment{Body: &body})
	if err != nil {
		return 0, fmt.Errorf("githubapp: comment on %s/%s#%d: %w", owner, name, number, err)
	}
	return c.GetID(), nil
}

// stickyPart matches the first line of a sticky comment part; see
// StickyMarker.
var stickyPart = regexp.MustCompile(`^<!-- fluxdiff:sticky (\S+)#(\d+) part=(\d+)/(\d+) -->`)

// findSticky returns the existing parts of the pull request's sticky
// comment in part order: the comments of the App's bot carrying the
// marker of this pull request (so that a comment created just before a
// crash, whose ID never reached refs, is found), plus IDs saved in refs
// that the listing did not show. When several comments claim one part,
// the oldest comes first and the others sort after the real parts, so
// that they are deleted as surplus.
func (a *App) findSticky(ctx context.Context, gh *github.Client, owner, name string, pr *diff.PullRequestInfo, refs Refs) ([]stickyComment, error) {
	key := prCommentKey(pr.Repo, pr.Number)
	saved, _, err := refs.Ref(ctx, RefPRComment, key)
	if err != nil {
		return nil, fmt.Errorf("githubapp: read comment ref %s: %w", key, err)
	}
	bot, err := a.BotLogin(ctx)
	if err != nil {
		return nil, err
	}
	listed, err := a.listSticky(ctx, gh, owner, name, pr, bot)
	if err != nil {
		return nil, err
	}
	found := map[int64]bool{}
	for _, c := range listed {
		found[c.id] = true
	}
	for i, s := range strings.Split(saved, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err == nil && id > 0 && !found[id] {
			listed = append(listed, stickyComment{id: id, part: i + 1})
			found[id] = true
		}
	}
	return orderParts(listed), nil
}

// orderParts sorts by part and ID, moving second claimants of a part to
// the end.
func orderParts(cs []stickyComment) []stickyComment {
	slices.SortFunc(cs, func(x, y stickyComment) int {
		return cmp.Or(cmp.Compare(x.part, y.part), cmp.Compare(x.id, y.id))
	})
	var first, dup []stickyComment
	for i, c := range cs {
		if i > 0 && cs[i-1].part == c.part {
			dup = append(dup, c)
			continue
		}
		first = append(first, c)
	}
	return append(first, dup...)
}

// listSticky lists the pull request's comments (every page) and keeps the
// bot's sticky parts of this pull request.
func (a *App) listSticky(ctx context.Context, gh *github.Client, owner, name string, pr *diff.PullRequestInfo, bot string) ([]stickyComment, error) {
	var out []stickyComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := gh.Issues.ListComments(ctx, owner, name, pr.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("githubapp: list comments of %s#%d: %w", pr.Repo, pr.Number, err)
		}
		for _, c := range page {
			if !strings.EqualFold(c.GetUser().GetLogin(), bot) {
				continue
			}
			m := stickyPart.FindStringSubmatch(c.GetBody())
			if m == nil || !strings.EqualFold(m[1], pr.Repo) || m[2] != strconv.Itoa(pr.Number) {
				continue
			}
			part, _ := strconv.Atoi(m[3])
			out = append(out, stickyComment{id: c.GetID(), part: part, body: c.GetBody(), listed: true})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
