package githubtest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CheckRun is a check run as the stand-in holds it.
type CheckRun struct {
	ID         int64
	Repo       string // "owner/name"
	HeadSHA    string
	Name       string
	Status     string // "queued", "in_progress" or "completed"
	Conclusion string // set when completed
	DetailsURL string
	ExternalID string
	Output     CheckRunOutput
	Actions    []CheckRunAction
	// Updates counts the PATCHes it received.
	Updates     int
	StartedAt   time.Time
	CompletedAt time.Time
}

// CheckRunOutput is a check run's output. Annotations accumulate over
// updates, as on GitHub.
type CheckRunOutput struct {
	Title, Summary, Text string
	Annotations          []Annotation
}

// Annotation is a check run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title"`
	RawDetails      string `json:"raw_details"`
}

// CheckRunAction is a requested-action button.
type CheckRunAction struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

// checkRunInput is the body of POST and PATCH check-runs.
type checkRunInput struct {
	Name        *string    `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       string       `json:"title"`
		Summary     string       `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
	Actions *[]CheckRunAction `json:"actions"`
}

// maxCheckRunText is GitHub's limit on a check run's output summary and
// text, in characters.
const maxCheckRunText = 65535

// CheckRuns returns the check runs of repo, oldest first.
func (s *Server) CheckRuns(repo string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.sortedRuns(repo, "") {
		cp := *cr
		cp.Output.Annotations = append([]Annotation(nil), cr.Output.Annotations...)
		out = append(out, cp)
	}
	return out
}

func (s *Server) sortedRuns(repo, sha string) []*CheckRun {
	var out []*CheckRun
	for _, cr := range s.st.checkRuns {
		if strings.EqualFold(cr.Repo, repo) && (sha == "" || cr.HeadSHA == sha) {
			out = append(out, cr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// apply merges in into cr following GitHub's rules: a conclusion makes the
// run completed; completed needs a conclusion; at most 50 annotations per
// request. A violation is a client bug: 422 and a test failure.
func (s *Server) apply(c *call, cr *CheckRun, in *checkRunInput) *response {
	bad := func(msg string) *response {
		s.errorf("githubtest: %s %s: %s", c.req.Method, c.template, msg)
		return errorResponse(http.StatusUnprocessableEntity, msg)
	}
	if in.Name != nil {
		cr.Name = *in.Name
	}
	if in.DetailsURL != nil {
		cr.DetailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		cr.ExternalID = *in.ExternalID
	}
	if in.Status != nil {
		cr.Status = *in.Status
	}
	if in.Conclusion != nil {
		cr.Conclusion, cr.Status = *in.Conclusion, "completed"
	}
	if in.StartedAt != nil {
		cr.StartedAt = *in.StartedAt
	}
	if in.CompletedAt != nil {
		cr.CompletedAt = *in.CompletedAt
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		return bad("a completed check run needs a conclusion")
	}
	if cr.Status == "completed" && cr.CompletedAt.IsZero() {
		cr.CompletedAt = time.Now()
	}
	if o := in.Output; o != nil {
		if utf8.RuneCountInString(o.Summary) > maxCheckRunText {
			return bad("output.summary is over 65535 characters")
		}
		if o.Text != nil && utf8.RuneCountInString(*o.Text) > maxCheckRunText {
			return bad("output.text is over 65535 characters")
		}
		if len(o.Annotations) > 50 {
			return bad("more than 50 annotations in one request")
		}
		cr.Output.Title, cr.Output.Summary = o.Title, o.Summary
		if o.Text != nil {
			cr.Output.Text = *o.Text
		}
		cr.Output.Annotations = append(cr.Output.Annotations, o.Annotations...)
	}
	if in.Actions != nil {
		cr.Actions = *in.Actions
	}
	return nil
}

func (s *Server) createCheckRun(c *call) *response {
	r := c.repo(s)
	var in checkRunInput
	_ = c.decode(&in)
	cr := &CheckRun{ID: s.st.id(), Repo: r.FullName(), HeadSHA: in.HeadSHA, Status: "queued", StartedAt: time.Now()}
	if bad := s.apply(c, cr, &in); bad != nil {
		return bad
	}
	s.st.checkRuns[cr.ID] = cr
	return created(s.checkRunJSON(r, cr))
}

func (s *Server) checkRun(c *call) *CheckRun {
	cr := s.st.checkRuns[c.intParam("check_run_id")]
	if cr == nil || !strings.EqualFold(cr.Repo, c.repo(s).FullName()) {
		return nil
	}
	return cr
}

func (s *Server) getCheckRun(c *call) *response {
	cr := s.checkRun(c)
	if cr == nil {
		return notFound()
	}
	return ok(s.checkRunJSON(c.repo(s), cr))
}

func (s *Server) updateCheckRun(c *call) *response {
	cr := s.checkRun(c)
	if cr == nil {
		return notFound()
	}
	var in checkRunInput
	_ = c.decode(&in)
	next := *cr
	if bad := s.apply(c, &next, &in); bad != nil {
		return bad
	}
	next.Updates++
	*cr = next
	return ok(s.checkRunJSON(c.repo(s), cr))
}

// listCheckRuns answers the check runs of a commit, filtered by check_name
// and status; filter "latest" (default) keeps the newest run per name.
func (s *Server) listCheckRuns(c *call) *response {
	r := c.repo(s)
	sha := r.resolve(c.params["ref"])
	runs := s.sortedRuns(r.FullName(), sha)
	latest := map[string]int64{}
	for _, cr := range runs {
		latest[cr.Name] = cr.ID
	}
	var items []any
	for i := len(runs) - 1; i >= 0; i-- {
		cr := runs[i]
		if n := c.query.Get("check_name"); n != "" && cr.Name != n {
			continue
		}
		if st := c.query.Get("status"); st != "" && cr.Status != st {
			continue
		}
		if c.query.Get("filter") != "all" && latest[cr.Name] != cr.ID {
			continue
		}
		items = append(items, s.checkRunJSON(r, cr))
	}
	page := s.paginate(c, items)
	page.value = obj{"total_count": len(items), "check_runs": page.value}
	return page
}

func (s *Server) checkRunJSON(r *repoState, cr *CheckRun) obj {
	m := s.spec.example("check-run")
	id := strconv.FormatInt(cr.ID, 10)
	m["id"] = cr.ID
	m["name"] = cr.Name
	m["head_sha"] = cr.HeadSHA
	m["status"] = cr.Status
	m["conclusion"] = nil
	m["completed_at"] = nil
	if cr.Status == "completed" {
		m["conclusion"] = cr.Conclusion
		m["completed_at"] = stamp(cr.CompletedAt)
	}
	m["started_at"] = stamp(cr.StartedAt)
	m["details_url"] = cr.DetailsURL
	m["external_id"] = cr.ExternalID
	m["url"] = s.apiURL("/repos/" + cr.Repo + "/check-runs/" + id)
	m["html_url"] = s.webURL(cr.Repo + "/runs/" + id)
	m["output"] = obj{
		"title": cr.Output.Title, "summary": cr.Output.Summary, "text": cr.Output.Text,
		"annotations_count": len(cr.Output.Annotations),
		"annotations_url":   s.apiURL("/repos/" + cr.Repo + "/check-runs/" + id + "/annotations"),
	}
	app := m["app"].(obj)
	app["id"], app["slug"], app["name"] = s.opts.AppID, s.opts.AppSlug, s.opts.AppSlug
	m["pull_requests"] = s.runPulls(r, cr.HeadSHA)
	return m
}

// runPulls lists the open pull requests of r whose head is sha, in the
// minimal shape of check_run.pull_requests.
func (s *Server) runPulls(r *repoState, sha string) []any {
	out := []any{}
	mini := obj{"id": r.ID, "name": r.Name, "url": s.apiURL("/repos/" + r.FullName())}
	for _, p := range r.pulls {
		if p.HeadSHA != sha || p.State != "open" || !strings.EqualFold(p.HeadRepo, r.FullName()) {
			continue
		}
		out = append(out, obj{
			"id": p.id, "number": p.Number, "url": s.apiURL("/repos/" + r.FullName() + "/pulls/" + strconv.Itoa(p.Number)),
			"head": obj{"ref": p.HeadRef, "sha": p.HeadSHA, "repo": mini},
			"base": obj{"ref": p.BaseRef, "sha": p.BaseSHA, "repo": mini},
		})
	}
	return out
}
