package githubtest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Review is a pull request review.
type Review struct {
	ID       int64
	Repo     string
	PR       int
	User     string
	State    string // "APPROVED", "CHANGES_REQUESTED", "COMMENTED" or "PENDING"
	Body     string
	CommitID string
	// Comments counts the draft review comments sent with it.
	Comments  int
	Submitted time.Time
}

var reviewStates = map[string]string{
	"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "PENDING",
}

// AddReview adds a review by a person (State as in Review) and returns it.
func (s *Server) AddReview(repo string, pr int, user, state, body string) Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	rv := &Review{ID: s.st.id(), Repo: r.FullName(), PR: pr, User: user, State: state, Body: body, Submitted: time.Now()}
	if p := r.pulls[pr]; p != nil {
		rv.CommitID = p.HeadSHA
	}
	s.st.reviews = append(s.st.reviews, rv)
	return *rv
}

// Reviews returns the reviews of pull request pr of repo, oldest first.
func (s *Server) Reviews(repo string, pr int) []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Review
	for _, rv := range s.reviewsOf(repo, pr) {
		out = append(out, *rv)
	}
	return out
}

func (s *Server) reviewsOf(repo string, pr int) []*Review {
	var out []*Review
	for _, rv := range s.st.reviews {
		if strings.EqualFold(rv.Repo, repo) && rv.PR == pr {
			out = append(out, rv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) reviewJSON(rv *Review) obj {
	m := s.spec.example("pull-request-review")
	pr := strconv.Itoa(rv.PR)
	m["id"], m["user"], m["body"], m["state"], m["commit_id"] = rv.ID, s.user(rv.User), rv.Body, rv.State, rv.CommitID
	m["author_association"] = "NONE"
	m["html_url"] = s.webURL(rv.Repo + "/pull/" + pr + "#pullrequestreview-" + strconv.FormatInt(rv.ID, 10))
	m["pull_request_url"] = s.apiURL("/repos/" + rv.Repo + "/pulls/" + pr)
	m["_links"] = obj{"html": obj{"href": m["html_url"]}, "pull_request": obj{"href": m["pull_request_url"]}}
	m["submitted_at"] = stamp(rv.Submitted)
	if rv.State == "PENDING" {
		delete(m, "submitted_at")
	}
	return m
}

func (s *Server) listReviews(c *call) *response {
	r := c.repo(s)
	pr := int(c.intParam("pull_number"))
	if r.pulls[pr] == nil {
		return notFound()
	}
	items := []any{}
	for _, rv := range s.reviewsOf(r.FullName(), pr) {
		items = append(items, s.reviewJSON(rv))
	}
	return s.paginate(c, items)
}

// createReview submits a review as the App's bot. As on GitHub, COMMENT
// and REQUEST_CHANGES need a body (422 otherwise, and a test failure).
func (s *Server) createReview(c *call) *response {
	r := c.repo(s)
	p := r.pulls[int(c.intParam("pull_number"))]
	if p == nil {
		return notFound()
	}
	var in struct {
		CommitID string `json:"commit_id"`
		Body     string
		Event    string
		Comments []struct{} `json:"comments"`
	}
	_ = c.decode(&in)
	if (in.Event == "COMMENT" || in.Event == "REQUEST_CHANGES") && in.Body == "" && len(in.Comments) == 0 {
		s.errorf("githubtest: %s review without a body", in.Event)
		return errorResponse(http.StatusUnprocessableEntity, "Unprocessable Entity: body is required for "+in.Event)
	}
	if in.CommitID == "" {
		in.CommitID = p.HeadSHA
	}
	rv := &Review{ID: s.st.id(), Repo: r.FullName(), PR: p.Number, User: s.author(c), State: reviewStates[in.Event],
		Body: in.Body, CommitID: in.CommitID, Comments: len(in.Comments), Submitted: time.Now()}
	s.st.reviews = append(s.st.reviews, rv)
	return ok(s.reviewJSON(rv))
}
