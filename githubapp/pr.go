package githubapp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
)

// Errors of FetchPullRequest that change what the pipeline does (test with
// errors.Is).
var (
	// ErrMergeConflict means the pull request does not merge cleanly into
	// its base (mergeable is false), so there is no test-merge commit.
	ErrMergeConflict = errors.New("pull request has merge conflicts with its base branch")
	// ErrClosed means the pull request is closed or merged.
	ErrClosed = errors.New("pull request is closed")
	// ErrHeadMoved means the pull request's head is no longer the commit
	// asked for: a newer push superseded the job. See *HeadMovedError.
	ErrHeadMoved = errors.New("pull request head has moved")
	// ErrMergeNotReady means GitHub had not computed the test-merge commit
	// within the poll timeout. See *MergeNotReadyError.
	ErrMergeNotReady = errors.New("github has not computed the test-merge commit yet")
)

// HeadMovedError says which head a job asked for and which one the pull
// request has now. It matches ErrHeadMoved.
type HeadMovedError struct {
	Want, Got string
}

func (e *HeadMovedError) Error() string {
	return fmt.Sprintf("pull request head has moved from %s to %s", e.Want, e.Got)
}

// Is makes errors.Is(err, ErrHeadMoved) true.
func (e *HeadMovedError) Is(target error) bool { return target == ErrHeadMoved }

// MergeNotReadyError says how long FetchPullRequest waited for GitHub to
// compute the test-merge commit. It matches ErrMergeNotReady.
type MergeNotReadyError struct {
	Waited time.Duration
}

func (e *MergeNotReadyError) Error() string {
	return fmt.Sprintf("github has not computed the test-merge commit after %s; try again later", e.Waited)
}

// Is makes errors.Is(err, ErrMergeNotReady) true.
func (e *MergeNotReadyError) Is(target error) bool { return target == ErrMergeNotReady }

// PullRequest holds the facts about a pull request that a diff needs.
type PullRequest struct {
	// Repo is the base repository, "owner/name"; Number the PR number.
	Repo   string
	Number int
	// Title, Author (login) and URL (html_url) as GitHub gives them.
	Title, Author, URL string
	// State is "open" (FetchPullRequest refuses closed ones); Draft is
	// true for a draft pull request.
	State string
	Draft bool
	// HeadSHA is the head commit, HeadRef its branch and HeadRepo the
	// repository holding it ("owner/name"; empty when that fork was
	// deleted). Fork is true when HeadRepo is not Repo.
	HeadSHA, HeadRef, HeadRepo string
	Fork                       bool
	// BaseRef is the base branch and BaseSHA its commit as GitHub last
	// computed the merge.
	BaseRef, BaseSHA string
	// BaseRepoURL is the base repository's html_url
	// ("https://github.com/owner/name"), the form Flux GitRepository URLs
	// are matched against; CloneURL its clone_url (".git" appended).
	BaseRepoURL, CloneURL string
	// MergeSHA is GitHub's test-merge commit of head into base.
	MergeSHA string
	// Files are the changed files in GitHub's order. GitHub lists at most
	// 3,000 of them; FilesTruncated is true when the pull request changes
	// more than were listed.
	Files          []FileChange
	FilesTruncated bool
}

// Info returns the part of p a diff.Report keeps.
func (p *PullRequest) Info(installationID int64) diff.PullRequestInfo {
	return diff.PullRequestInfo{
		InstallationID: installationID,
		Repo:           p.Repo,
		Number:         p.Number,
		Title:          p.Title,
		Author:         p.Author,
		URL:            p.URL,
		BaseRef:        p.BaseRef,
		HeadSHA:        p.HeadSHA,
		MergeSHA:       p.MergeSHA,
	}
}

// File change statuses (FileChange.Status).
const (
	FileAdded    = "added"
	FileModified = "modified"
	FileRemoved  = "removed"
	FileRenamed  = "renamed"
)

// FileChange is one file a pull request changes.
type FileChange struct {
	// Path is the file's path at the head, slash-separated, relative to
	// the repository root; PreviousPath its path at the base when renamed.
	Path, PreviousPath string
	// Status is FileAdded, FileModified, FileRemoved or FileRenamed.
	// GitHub's "copied" counts as added; "changed" (a mode change) and
	// "unchanged" as modified.
	Status string
}

// FetchOptions tunes FetchPullRequest.
type FetchOptions struct {
	// HeadSHA is the head commit the job was made for; when set and the
	// pull request's head differs, FetchPullRequest fails with a
	// *HeadMovedError.
	HeadSHA string
	// MergePollTimeout bounds the total wait for GitHub to compute the
	// test-merge commit (Config.MergePollTimeout; 2m when zero).
	MergePollTimeout time.Duration

	// sleep waits d or until ctx ends; nil means a timer. Tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// GitHub's bounds on listing a pull request's files: "Responses include a
// maximum of 3000 files", 100 per page at most (REST API, "List pull
// requests files").
const (
	maxListedFiles = 3000
	filesPerPage   = 100
)

// Backoff of the mergeability poll: first wait, doubling, capped. GitHub
// computes mergeability in a background job started by the push, usually
// done within a second or two, and the webhook often arrives before it is;
// a short first wait answers as soon as it is done without adding a whole
// second to every diff, and the doubling keeps the requests few when it is
// slow.
const (
	mergePollFirst = 250 * time.Millisecond
	mergePollMax   = 16 * time.Second
)

// FetchPullRequest reads pull request number of repo ("owner/name") with gh,
// an installation client: GET /repos/{owner}/{repo}/pulls/{number}, polled
// while GitHub computes mergeability (mergeable is null until its
// background job is done, and merge_commit_sha names the test-merge commit
// only once mergeable is true), then its changed files from
// GET .../pulls/{number}/files, 100 per page.
//
// Errors: ErrClosed for a closed or merged pull request; *HeadMovedError
// when opts.HeadSHA is set and no longer the head; ErrMergeConflict when
// it does not merge cleanly; *MergeNotReadyError when GitHub did not answer
// within opts.MergePollTimeout; otherwise the API error, wrapped.
func FetchPullRequest(ctx context.Context, gh *github.Client, repo string, number int, opts FetchOptions) (*PullRequest, error) {
	owner, name, err := ownerAndName(repo)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("%s#%d", repo, number)
	ghpr, err := pollMergeable(ctx, gh, owner, name, number, opts)
	if err != nil {
		return nil, fmt.Errorf("githubapp: pull request %s: %w", where, err)
	}
	pr := pullRequestFacts(repo, ghpr)
	pr.Files, pr.FilesTruncated, err = listFiles(ctx, gh, owner, name, number, ghpr.GetChangedFiles())
	if err != nil {
		return nil, fmt.Errorf("githubapp: files of pull request %s: %w", where, err)
	}
	return pr, nil
}

// pollMergeable gets the pull request until GitHub has computed its
// mergeability, checking state and head on every answer.
func pollMergeable(ctx context.Context, gh *github.Client, owner, name string, number int, opts FetchOptions) (*github.PullRequest, error) {
	timeout := opts.MergePollTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	sleep := opts.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var waited time.Duration
	wait := mergePollFirst
	for {
		ghpr, _, err := gh.PullRequests.Get(ctx, owner, name, number)
		if err != nil {
			return nil, err
		}
		if ghpr.GetState() != "open" {
			return nil, ErrClosed
		}
		if head := ghpr.GetHead().GetSHA(); opts.HeadSHA != "" && !strings.EqualFold(head, opts.HeadSHA) {
			return nil, &HeadMovedError{Want: opts.HeadSHA, Got: head}
		}
		if m := ghpr.Mergeable; m != nil && !*m {
			return nil, ErrMergeConflict
		} else if m != nil && ghpr.GetMergeCommitSHA() != "" {
			return ghpr, nil
		}
		if waited >= timeout {
			return nil, &MergeNotReadyError{Waited: waited}
		}
		d := min(wait, timeout-waited)
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
		waited += d
		wait = min(2*wait, mergePollMax)
	}
}

func pullRequestFacts(repo string, g *github.PullRequest) *PullRequest {
	base, head := g.GetBase(), g.GetHead()
	headRepo := head.GetRepo().GetFullName()
	return &PullRequest{
		Repo:        repo,
		Number:      g.GetNumber(),
		Title:       g.GetTitle(),
		Author:      g.GetUser().GetLogin(),
		URL:         g.GetHTMLURL(),
		State:       g.GetState(),
		Draft:       g.GetDraft(),
		HeadSHA:     head.GetSHA(),
		HeadRef:     head.GetRef(),
		HeadRepo:    headRepo,
		Fork:        !strings.EqualFold(headRepo, base.GetRepo().GetFullName()),
		BaseRef:     base.GetRef(),
		BaseSHA:     base.GetSHA(),
		BaseRepoURL: base.GetRepo().GetHTMLURL(),
		CloneURL:    base.GetRepo().GetCloneURL(),
		MergeSHA:    g.GetMergeCommitSHA(),
	}
}

// listFiles pages through the pull request's files. changed is the PR's
// changed_files count.
func listFiles(ctx context.Context, gh *github.Client, owner, name string, number, changed int) ([]FileChange, bool, error) {
	var files []FileChange
	opt := &github.ListOptions{PerPage: filesPerPage}
	for {
		page, resp, err := gh.PullRequests.ListFiles(ctx, owner, name, number, opt)
		if err != nil {
			return nil, false, err
		}
		for _, f := range page {
			files = append(files, fileChange(f))
		}
		if resp.NextPage == 0 {
			break
		}
		if len(files) >= maxListedFiles {
			// GitHub stops here; a server listing more is not trusted to.
			return files, true, nil
		}
		opt.Page = resp.NextPage
	}
	return files, changed > len(files), nil
}

func fileChange(f *github.CommitFile) FileChange {
	c := FileChange{Path: f.GetFilename(), Status: f.GetStatus()}
	switch c.Status {
	case "copied":
		c.Status = FileAdded
	case "changed", "unchanged":
		c.Status = FileModified
	case FileRenamed:
		c.PreviousPath = f.GetPreviousFilename()
	}
	return c
}

// GitHub's rules for names: an owner is alphanumerics and hyphens; a
// repository name alphanumerics, hyphens, underscores and dots.
var (
	ownerRE    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ownerAndName splits "owner/name", refusing anything that is not a valid
// GitHub repository name (so it is safe in URL paths and file names).
func ownerAndName(repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !ownerRE.MatchString(owner) || !repoNameRE.MatchString(name) || name == "." || name == ".." {
		return "", "", fmt.Errorf("githubapp: %q is not a repository name of the form owner/name", repo)
	}
	return owner, name, nil
}
