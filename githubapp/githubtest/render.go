package githubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Answers are built from the description's own examples (complete objects
// that satisfy the schemas) with the fields fluxdiff reads overwritten
// from the stand-in's state.

// obj is a JSON object under construction.
type obj = map[string]any

// set assigns v at a dotted path of m, creating objects on the way.
func set(m obj, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(obj)
		if !ok {
			next = obj{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// webURL returns the stand-in's github.com-like address for a path.
func (s *Server) webURL(p string) string { return s.srv.URL + "/_web/" + strings.TrimPrefix(p, "/") }

// apiURL returns the stand-in's API address for a path.
func (s *Server) apiURL(p string) string { return strings.TrimSuffix(s.URL(), "/") + p }

// user renders a simple-user: login ending in "[bot]" is a Bot.
func (s *Server) user(login string) obj {
	u := s.spec.example("issue-comment")["user"].(obj)
	u["login"] = login
	u["id"] = userID(login)
	u["type"] = "User"
	if strings.HasSuffix(login, "[bot]") {
		u["type"] = "Bot"
	}
	u["html_url"] = s.webURL(login)
	u["url"] = s.apiURL("/users/" + login)
	return u
}

// userID derives a stable positive ID from a login.
func userID(login string) int64 {
	var h int64 = 7
	for _, c := range login {
		h = (h*31 + int64(c)) % 1_000_000_007
	}
	return h + 1
}

// repoJSON renders r over a full repository example object m.
func (s *Server) repoJSON(m obj, r Repo) obj {
	m["id"] = r.ID
	m["name"] = r.Name
	m["full_name"] = r.FullName()
	m["private"] = r.Private
	m["visibility"] = "public"
	if r.Private {
		m["visibility"] = "private"
	}
	m["default_branch"] = r.DefaultBranch
	m["html_url"] = s.webURL(r.FullName())
	m["url"] = s.apiURL("/repos/" + r.FullName())
	m["clone_url"] = s.webURL(r.FullName() + ".git")
	if owner, ok := m["owner"].(obj); ok {
		o := s.user(r.Owner)
		for k := range owner {
			if v, ok := o[k]; ok {
				owner[k] = v
			}
		}
	}
	return m
}

// paginate answers items one page at a time as GitHub does: per_page
// (default 30, at most 100) and page (default 1) from the query, and a
// Link header with first/prev/next/last relations when there is more
// than one page.
func (s *Server) paginate(c *call, items []any) *response {
	per := queryInt(c.query, "per_page", 30)
	if per > 100 {
		per = 100
	}
	if per < 1 {
		per = 30
	}
	page := queryInt(c.query, "page", 1)
	if page < 1 {
		page = 1
	}
	last := (len(items) + per - 1) / per
	if last < 1 {
		last = 1
	}
	from, to := min((page-1)*per, len(items)), min(page*per, len(items))
	out := append([]any{}, items[from:to]...)
	r := &response{status: http.StatusOK, value: out}
	if last > 1 {
		r.header = http.Header{"Link": {s.links(c, page, last)}}
	}
	return r
}

func (s *Server) links(c *call, page, last int) string {
	rel := func(p int, name string) string {
		q := url.Values{}
		for k, v := range c.query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, s.apiURL(c.path), q.Encode(), name)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, rel(page-1, "prev"))
	}
	if page < last {
		parts = append(parts, rel(page+1, "next"))
	}
	parts = append(parts, rel(last, "last"), rel(1, "first"))
	return strings.Join(parts, ", ")
}

func queryInt(q url.Values, name string, def int) int {
	v, err := strconv.Atoi(q.Get(name))
	if err != nil {
		return def
	}
	return v
}

func notFound() *response { return errorResponse(http.StatusNotFound, "Not Found") }

func ok(v any) *response { return &response{status: http.StatusOK, value: v} }

func created(v any) *response { return &response{status: http.StatusCreated, value: v} }
