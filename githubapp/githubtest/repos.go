package githubtest

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"path"
	"sort"
	"strings"
)

// SetParents records the parent commits of sha in repo (served by
// GET /repos/{owner}/{repo}/commits/{ref}); a test-merge commit has the
// base branch head and the pull request head as parents.
func (s *Server) SetParents(repo, sha string, parents ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	if r.parents == nil {
		r.parents = map[string][]string{}
	}
	r.parents[sha] = append([]string(nil), parents...)
}

// treeDiff lists the files that differ between two commits of r as a pull
// request's files: added, removed or modified (no rename detection), by
// path. The line counts are those of whole files.
func treeDiff(base, head map[string][]byte) []File {
	var out []File
	for p, b := range head {
		old, found := base[p]
		switch {
		case !found:
			out = append(out, File{Filename: p, Status: "added", Additions: lines(b)})
		case !bytes.Equal(old, b):
			out = append(out, File{Filename: p, Status: "modified", Additions: lines(b), Deletions: lines(old)})
		}
	}
	for p, b := range base {
		if _, found := head[p]; !found {
			out = append(out, File{Filename: p, Status: "removed", Deletions: lines(b)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Filename < out[j].Filename })
	return out
}

func lines(b []byte) int {
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

func (s *Server) getCommit(c *call) *response {
	r := c.repo(s)
	sha := r.resolve(c.params["ref"])
	if sha == "" {
		return errorResponse(http.StatusUnprocessableEntity, "No commit found for SHA: "+c.params["ref"])
	}
	m := s.spec.example("commit")
	m["sha"] = sha
	m["url"] = s.apiURL("/repos/" + r.FullName() + "/commits/" + sha)
	m["html_url"] = s.webURL(r.FullName() + "/commit/" + sha)
	m["comments_url"] = s.apiURL("/repos/" + r.FullName() + "/commits/" + sha + "/comments")
	set(m, "commit.tree.sha", treeSHA(r.commits[sha]))
	parents := []any{}
	var files []File
	for i, p := range r.parents[sha] {
		parents = append(parents, obj{"sha": p, "url": s.apiURL("/repos/" + r.FullName() + "/commits/" + p),
			"html_url": s.webURL(r.FullName() + "/commit/" + p)})
		if i == 0 {
			files = treeDiff(r.commits[p], r.commits[sha])
		}
	}
	m["parents"] = parents
	add, del := 0, 0
	items := []any{}
	for _, f := range files {
		add, del = add+f.Additions, del+f.Deletions
		items = append(items, obj{"filename": f.Filename, "status": f.Status, "additions": f.Additions,
			"deletions": f.Deletions, "changes": f.Additions + f.Deletions, "sha": SHA(sha + f.Filename),
			"blob_url":     s.webURL(r.FullName() + "/blob/" + sha + "/" + f.Filename),
			"raw_url":      s.webURL(r.FullName() + "/raw/" + sha + "/" + f.Filename),
			"contents_url": s.apiURL("/repos/" + r.FullName() + "/contents/" + f.Filename + "?ref=" + sha)})
	}
	m["files"] = items
	m["stats"] = obj{"additions": add, "deletions": del, "total": add + del}
	return ok(m)
}

// getContents answers a file (base64 content) or a directory listing of
// a commit (ref, default the default branch).
func (s *Server) getContents(c *call) *response {
	r := c.repo(s)
	ref := c.query.Get("ref")
	if ref == "" {
		ref = r.DefaultBranch
	}
	sha := r.resolve(ref)
	files := r.commits[sha]
	p := strings.Trim(c.params["path"], "/")
	if b, found := files[p]; found && sha != "" {
		m := s.spec.example("content-file-response-if-content-is-a-file")
		s.contentJSON(m, r, sha, p, "file", len(b))
		m["content"] = base64.StdEncoding.EncodeToString(b)
		m["encoding"] = "base64"
		return ok(m)
	}
	entries := map[string]bool{}
	for f := range files {
		if rest, found := strings.CutPrefix(f, p+"/"); found {
			name, _, isDir := strings.Cut(rest, "/")
			entries[name] = entries[name] || isDir
		}
	}
	if len(entries) == 0 {
		return notFound()
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	items := []any{}
	for _, n := range names {
		m := s.spec.example("content-file-response-if-content-is-a-directory")
		kind, size := "file", len(files[path.Join(p, n)])
		if entries[n] {
			kind, size = "dir", 0
		}
		s.contentJSON(m, r, sha, path.Join(p, n), kind, size)
		items = append(items, m)
	}
	return ok(items)
}

func (s *Server) contentJSON(m obj, r *repoState, sha, p, kind string, size int) {
	m["type"], m["name"], m["path"], m["size"] = kind, path.Base(p), p, size
	m["sha"] = SHA(sha + p)
	m["url"] = s.apiURL("/repos/" + r.FullName() + "/contents/" + p + "?ref=" + sha)
	m["html_url"] = s.webURL(r.FullName() + "/blob/" + sha + "/" + p)
	m["git_url"] = s.apiURL("/repos/" + r.FullName() + "/git/blobs/" + SHA(sha+p))
	m["download_url"] = nil
	if kind == "file" {
		m["download_url"] = s.webURL(r.FullName() + "/raw/" + sha + "/" + p)
	}
	m["_links"] = obj{"self": m["url"], "git": m["git_url"], "html": m["html_url"]}
}
