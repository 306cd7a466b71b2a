package githubtest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// handler answers a routed, authenticated call; it runs with s.mu held.
type handler func(s *Server, c *call) *response

// handlers maps "METHOD template" to its handler. An operation of the
// description without a handler is answered 501 and fails the test.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"GET /app":               (*Server).getApp,
		"GET /app/installations": (*Server).listInstallations,
		"POST /app/installations/{installation_id}/access_tokens": (*Server).createToken,
		"GET /rate_limit":                                                   (*Server).rateLimit,
		"GET /repos/{owner}/{repo}":                                         (*Server).getRepo,
		"GET /repos/{owner}/{repo}/installation":                            (*Server).repoInstallation,
		"GET /repos/{owner}/{repo}/collaborators/{username}/permission":     (*Server).permission,
		"GET /repos/{owner}/{repo}/pulls":                                   (*Server).listPulls,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}":                     (*Server).getPull,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/files":               (*Server).pullFiles,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":             (*Server).listReviews,
		"POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews":            (*Server).createReview,
		"GET /repos/{owner}/{repo}/tarball/{ref}":                           (*Server).tarballLink,
		"GET /repos/{owner}/{repo}/commits/{ref}":                           (*Server).getCommit,
		"GET /repos/{owner}/{repo}/contents/{path}":                         (*Server).getContents,
		"GET /repos/{owner}/{repo}/git/ref/{ref}":                           (*Server).getRef,
		"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":          (*Server).listComments,
		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":         (*Server).createComment,
		"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":            (*Server).getComment,
		"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":          (*Server).updateComment,
		"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}":         (*Server).deleteComment,
		"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": (*Server).createReaction,
		"POST /repos/{owner}/{repo}/check-runs":                             (*Server).createCheckRun,
		"GET /repos/{owner}/{repo}/check-runs/{check_run_id}":               (*Server).getCheckRun,
		"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}":             (*Server).updateCheckRun,
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":                (*Server).listCheckRuns,
	}
}

// dispatch checks repository access and runs the call's handler.
func (s *Server) dispatch(c *call) *response {
	h := handlers[c.req.Method+" "+c.template]
	if h == nil {
		s.errorf("githubtest: %s %s is in the description but the stand-in does not serve it yet", c.req.Method, c.template)
		return errorResponse(http.StatusNotImplemented, "not served by the stand-in")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(c.template, "/repos/{owner}/{repo}") {
		r := s.repo(c.params["owner"] + "/" + c.params["repo"])
		// An installation token sees only its installation's
		// repositories; GitHub answers 404 for the others.
		if r == nil || (!c.auth.app && r.InstallationID != c.auth.installation) {
			return notFound()
		}
	}
	return h(s, c)
}

// decode reads the call's JSON body into v (already validated).
func (c *call) decode(v any) error {
	if len(c.body) == 0 {
		return nil
	}
	return json.Unmarshal(c.body, v)
}

func (c *call) repo(s *Server) *repoState {
	return s.repo(c.params["owner"] + "/" + c.params["repo"])
}

func (c *call) intParam(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

func (s *Server) getApp(c *call) *response {
	a := s.spec.example("integration")
	a["id"] = s.opts.AppID
	a["slug"] = s.opts.AppSlug
	a["name"] = s.opts.AppSlug
	a["html_url"] = s.webURL("apps/" + s.opts.AppSlug)
	return ok(a)
}

func (s *Server) installationJSON(id int64, account string) obj {
	in := s.spec.example("installation")
	in["id"] = id
	in["app_id"] = s.opts.AppID
	in["app_slug"] = s.opts.AppSlug
	in["account"] = s.user(account)
	in["access_tokens_url"] = s.apiURL("/app/installations/" + strconv.FormatInt(id, 10) + "/access_tokens")
	return in
}

func (s *Server) listInstallations(c *call) *response {
	ids := make([]int64, 0, len(s.st.installations))
	for id := range s.st.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, s.installationJSON(id, s.st.installations[id]))
	}
	return s.paginate(c, items)
}

func (s *Server) createToken(c *call) *response {
	id := c.intParam("installation_id")
	if _, found := s.st.installations[id]; !found {
		return notFound()
	}
	tok, exp := s.newToken(id)
	t := s.spec.example("installation-token")
	t["token"] = tok
	t["expires_at"] = stamp(exp)
	delete(t, "repositories")
	t["repository_selection"] = "selected"
	return created(t)
}

func (s *Server) rateLimit(c *call) *response {
	r := s.spec.example("rate-limit-overview")
	reset := time.Now().Add(time.Hour).Unix()
	set(r, "rate.reset", reset)
	set(r, "resources.core.reset", reset)
	return ok(r)
}

func (s *Server) getRepo(c *call) *response {
	return ok(s.repoJSON(s.spec.example("full-repository-default-response"), c.repo(s).Repo))
}

func (s *Server) repoInstallation(c *call) *response {
	r := c.repo(s)
	return ok(s.installationJSON(r.InstallationID, s.st.installations[r.InstallationID]))
}

// permission answers a collaborator's permission: "permission" is the
// legacy level (maintain counts as write, triage as read) and "role_name"
// the role (docs.github.com, "Get repository permissions for a user").
func (s *Server) permission(c *call) *response {
	r := c.repo(s)
	login := c.params["username"]
	role, found := r.perms[strings.ToLower(login)]
	if !found {
		role = "read"
		if r.Private {
			role = "none"
		}
	}
	legacy := map[string]string{"maintain": "write", "triage": "read"}[role]
	if legacy == "" {
		legacy = role
	}
	p := s.spec.example("repository-collaborator-permission-response-if-user-has-admin-permissions")
	p["permission"] = legacy
	p["role_name"] = role
	u := p["user"].(obj)
	for k, v := range s.user(login) {
		if _, has := u[k]; has {
			u[k] = v
		}
	}
	u["role_name"] = role
	u["permissions"] = obj{
		"admin": role == "admin", "maintain": role == "admin" || role == "maintain",
		"push":   legacy == "admin" || legacy == "write",
		"triage": role != "read" && role != "none", "pull": role != "none",
	}
	return ok(p)
}

func (s *Server) getRef(c *call) *response {
	r := c.repo(s)
	ref := c.params["ref"]
	if !strings.HasPrefix(ref, "heads/") {
		return notFound()
	}
	sha := r.branches[strings.TrimPrefix(ref, "heads/")]
	if sha == "" {
		return notFound()
	}
	g := s.spec.example("git-ref")
	g["ref"] = "refs/" + ref
	g["url"] = s.apiURL(c.path)
	set(g, "object.sha", sha)
	set(g, "object.url", s.apiURL("/repos/"+r.FullName()+"/git/commits/"+sha))
	return ok(g)
}
