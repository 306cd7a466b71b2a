package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PullRequest is a pull request fixture.
type PullRequest struct {
	Number      int
	Title, Body string
	// User is the author's login (default "octocat").
	User string
	// State is "open" (default) or "closed"; Merged marks a closed pull
	// request as merged.
	State  string
	Merged bool
	Draft  bool
	// HeadSHA and HeadRef are the head commit and branch (HeadRef
	// defaults to "pr-N"); HeadRepo is the head's repository "owner/name"
	// when it is a fork (default: the same repository; a fork must be
	// added with AddRepo).
	HeadSHA, HeadRef, HeadRepo string
	// BaseRef defaults to the default branch, BaseSHA to its head.
	BaseRef, BaseSHA string
	// MergeCommitSHA is GitHub's test-merge commit.
	MergeCommitSHA string
	// Mergeable is what GitHub answers once it has computed mergeability:
	// nil means never computed (always null). MergeableNullTimes GETs of
	// the pull request answer mergeable null (and merge_commit_sha null)
	// before that, as GitHub does while its background job runs.
	Mergeable          *bool
	MergeableNullTimes int
	// Files are the changed files, in order. When nil and both BaseSHA
	// and HeadSHA were added with AddCommit, they are the difference of
	// the two trees (added, removed, modified; no renames).
	Files []File
}

// File is a changed file of a pull request.
type File struct {
	Filename string
	// Status is "added", "removed", "modified", "renamed", "copied",
	// "changed" or "unchanged".
	Status string
	// PreviousFilename is the old path of a renamed or copied file.
	PreviousFilename string
	Additions        int
	Deletions        int
	Patch            string
}

type pullState struct {
	PullRequest
	id        int64
	created   time.Time
	nullsLeft int
}

// Bool returns a pointer to b (for PullRequest.Mergeable).
func Bool(b bool) *bool { return &b }

// AddPullRequest adds (or replaces) pull request pr of repo and returns it
// with defaults filled in.
func (s *Server) AddPullRequest(repo string, pr PullRequest) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	if pr.User == "" {
		pr.User = "octocat"
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.Title == "" {
		pr.Title = fmt.Sprintf("Pull request %d", pr.Number)
	}
	if pr.HeadRef == "" {
		pr.HeadRef = fmt.Sprintf("pr-%d", pr.Number)
	}
	if pr.HeadRepo == "" {
		pr.HeadRepo = r.FullName()
	}
	if pr.BaseRef == "" {
		pr.BaseRef = r.DefaultBranch
	}
	if pr.BaseSHA == "" {
		pr.BaseSHA = r.branches[pr.BaseRef]
	}
	head := s.repo(pr.HeadRepo)
	if pr.Files == nil && head != nil && r.commits[pr.BaseSHA] != nil && head.commits[pr.HeadSHA] != nil {
		pr.Files = treeDiff(r.commits[pr.BaseSHA], head.commits[pr.HeadSHA])
	}
	r.pulls[pr.Number] = &pullState{PullRequest: pr, id: s.st.id(), created: time.Now(), nullsLeft: pr.MergeableNullTimes}
	return pr
}

// UpdatePullRequest changes pull request number of repo with f (e.g. a new
// head SHA); MergeableNullTimes restarts from the updated value.
func (s *Server) UpdatePullRequest(repo string, number int, f func(*PullRequest)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustRepo(repo).pulls[number]
	if p == nil {
		s.fatalf("githubtest: no pull request %s#%d", repo, number)
	}
	f(&p.PullRequest)
	p.nullsLeft = p.MergeableNullTimes
}

func (s *Server) getPull(c *call) *response {
	r := c.repo(s)
	p := r.pulls[int(c.intParam("pull_number"))]
	if p == nil {
		return notFound()
	}
	m := s.pullJSON(s.spec.example("pull-request"), r, p)
	if p.nullsLeft > 0 {
		p.nullsLeft--
		m["mergeable"], m["merge_commit_sha"], m["mergeable_state"], m["rebaseable"] = nil, nil, "unknown", nil
		return ok(m)
	}
	m["mergeable"] = nil
	m["mergeable_state"] = "unknown"
	if p.Mergeable != nil {
		m["mergeable"] = *p.Mergeable
		m["mergeable_state"] = map[bool]string{true: "clean", false: "dirty"}[*p.Mergeable]
	}
	m["additions"], m["deletions"], m["changed_files"] = p.sums()
	return ok(m)
}

func (p *pullState) sums() (add, del, files int) {
	for _, f := range p.Files {
		add += f.Additions
		del += f.Deletions
	}
	return add, del, len(p.Files)
}

// pullJSON renders p over a pull-request or pull-request-simple example.
func (s *Server) pullJSON(m obj, r *repoState, p *pullState) obj {
	num := strconv.Itoa(p.Number)
	m["id"] = p.id
	m["number"] = p.Number
	m["title"] = p.Title
	m["body"] = p.Body
	m["state"] = p.State
	m["draft"] = p.Draft
	m["user"] = s.user(p.User)
	// The fixture has no people or labels around it.
	m["requested_teams"], m["requested_reviewers"], m["labels"], m["assignees"] = []any{}, []any{}, []any{}, []any{}
	m["assignee"], m["milestone"], m["auto_merge"] = nil, nil, nil
	if _, full := m["merged_by"]; full {
		m["merged_by"] = nil
	}
	m["html_url"] = s.webURL(r.FullName() + "/pull/" + num)
	m["url"] = s.apiURL("/repos/" + r.FullName() + "/pulls/" + num)
	m["created_at"] = stamp(p.created)
	m["updated_at"] = stamp(p.created)
	m["closed_at"], m["merged_at"] = nil, nil
	if p.State == "closed" {
		m["closed_at"] = stamp(p.created)
	}
	if _, full := m["merged"]; full {
		m["merged"] = p.Merged
	}
	if p.Merged {
		m["merged_at"] = stamp(p.created)
	}
	m["merge_commit_sha"] = nil
	if p.MergeCommitSHA != "" {
		m["merge_commit_sha"] = p.MergeCommitSHA
	}
	head := s.repo(p.HeadRepo)
	if head == nil {
		head = r
	}
	s.branchJSON(m["head"].(obj), head, p.HeadRef, p.HeadSHA)
	s.branchJSON(m["base"].(obj), r, p.BaseRef, p.BaseSHA)
	return m
}

func (s *Server) branchJSON(b obj, r *repoState, ref, sha string) {
	b["ref"] = ref
	b["sha"] = sha
	b["label"] = r.Owner + ":" + ref
	b["user"] = s.user(r.Owner)
	if repo, ok := b["repo"].(obj); ok {
		s.repoJSON(repo, r.Repo)
	}
}

// listPulls answers GET /repos/{owner}/{repo}/pulls with the state
// (default open), head ("user:ref") and base filters, newest first.
func (s *Server) listPulls(c *call) *response {
	r := c.repo(s)
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	nums := make([]int, 0, len(r.pulls))
	for n := range r.pulls {
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums)))
	items := []any{}
	for _, n := range nums {
		p := r.pulls[n]
		if state != "all" && p.State != state {
			continue
		}
		if b := c.query.Get("base"); b != "" && p.BaseRef != b {
			continue
		}
		if h := c.query.Get("head"); h != "" && !strings.EqualFold(h, strings.Split(p.HeadRepo, "/")[0]+":"+p.HeadRef) {
			continue
		}
		items = append(items, s.pullJSON(s.spec.example("pull-request-simple-items"), r, p))
	}
	return s.paginate(c, items)
}

func (s *Server) pullFiles(c *call) *response {
	r := c.repo(s)
	p := r.pulls[int(c.intParam("pull_number"))]
	if p == nil {
		return notFound()
	}
	items := make([]any, 0, len(p.Files))
	for _, f := range p.Files {
		e := s.spec.example("diff-entry-items")
		e["filename"] = f.Filename
		e["status"] = f.Status
		e["additions"], e["deletions"], e["changes"] = f.Additions, f.Deletions, f.Additions+f.Deletions
		e["sha"] = SHA(p.HeadSHA + f.Filename)
		e["blob_url"] = s.webURL(r.FullName() + "/blob/" + p.HeadSHA + "/" + f.Filename)
		e["raw_url"] = s.webURL(r.FullName() + "/raw/" + p.HeadSHA + "/" + f.Filename)
		e["contents_url"] = s.apiURL("/repos/" + r.FullName() + "/contents/" + f.Filename + "?ref=" + p.HeadSHA)
		delete(e, "patch")
		if f.Patch != "" {
			e["patch"] = f.Patch
		}
		if f.PreviousFilename != "" {
			e["previous_filename"] = f.PreviousFilename
		}
		items = append(items, e)
	}
	return s.paginate(c, items)
}

// tarballLink answers GitHub's 302 to codeload with a short-lived token in
// the query, as for private repositories.
func (s *Server) tarballLink(c *call) *response {
	r := c.repo(s)
	sha := r.resolve(c.params["ref"])
	if sha == "" {
		return notFound()
	}
	loc := fmt.Sprintf("%s%s%s/legacy.tar.gz/%s?token=%s", s.srv.URL, codeloadPrefix, r.FullName(), sha, s.codeloadToken(r.FullName(), sha))
	return &response{status: http.StatusFound, header: http.Header{"Location": {loc}}}
}
