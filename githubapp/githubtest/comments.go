package githubtest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Comment is an issue (pull request conversation) comment.
type Comment struct {
	ID    int64
	Repo  string // "owner/name"
	Issue int
	// User is the author's login; comments made with an installation
	// token are the App bot's (Server.BotLogin).
	User      string
	Body      string
	Created   time.Time
	Updated   time.Time
	Reactions []Reaction
}

// Reaction is a reaction on a comment.
type Reaction struct {
	ID      int64
	User    string
	Content string // "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"
}

// maxCommentBody is GitHub's limit on a comment body, in characters
// (422 "Body is too long (maximum is 65536 characters)").
const maxCommentBody = 65536

// AddComment adds a comment by user on issue (pull request) number of repo,
// as a person would, and returns it.
func (s *Server) AddComment(repo string, issue int, user, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	return *s.addComment(r, issue, user, body)
}

func (s *Server) addComment(r *repoState, issue int, user, body string) *Comment {
	now := time.Now()
	cm := &Comment{ID: s.st.id(), Repo: r.FullName(), Issue: issue, User: user, Body: body, Created: now, Updated: now}
	s.st.comments[cm.ID] = cm
	return cm
}

// Comments returns the comments on issue (pull request) number of repo,
// oldest first.
func (s *Server) Comments(repo string, issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.sortedComments(repo, issue) {
		cp := *c
		cp.Reactions = append([]Reaction(nil), c.Reactions...)
		out = append(out, cp)
	}
	return out
}

// Reactions returns the reactions on comment id.
func (s *Server) Reactions(id int64) []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.st.comments[id]; c != nil {
		return append([]Reaction(nil), c.Reactions...)
	}
	return nil
}

func (s *Server) sortedComments(repo string, issue int) []*Comment {
	var out []*Comment
	for _, c := range s.st.comments {
		if strings.EqualFold(c.Repo, repo) && c.Issue == issue {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) commentJSON(c *Comment) obj {
	m := s.spec.example("issue-comment")
	m["id"] = c.ID
	m["body"] = c.Body
	m["user"] = s.user(c.User)
	m["created_at"] = stamp(c.Created)
	m["updated_at"] = stamp(c.Updated)
	m["author_association"] = "NONE"
	issue := strconv.Itoa(c.Issue)
	m["html_url"] = s.webURL(c.Repo + "/pull/" + issue + "#issuecomment-" + strconv.FormatInt(c.ID, 10))
	m["issue_url"] = s.apiURL("/repos/" + c.Repo + "/issues/" + issue)
	m["url"] = s.apiURL("/repos/" + c.Repo + "/issues/comments/" + strconv.FormatInt(c.ID, 10))
	return m
}

// author is who a call acts as: the App bot for an installation token.
func (s *Server) author(c *call) string { return s.BotLogin() }

// checkBody refuses bodies over GitHub's limit; a client that sends one has
// a bug, so it also fails the test.
func (s *Server) checkBody(c *call, body string) *response {
	if n := utf8.RuneCountInString(body); n > maxCommentBody {
		s.errorf("githubtest: %s %s: comment body of %d characters is over GitHub's %d", c.req.Method, c.template, n, maxCommentBody)
		return errorResponse(http.StatusUnprocessableEntity, "Body is too long (maximum is 65536 characters)")
	}
	return nil
}

func (s *Server) listComments(c *call) *response {
	r := c.repo(s)
	issue := int(c.intParam("issue_number"))
	if r.pulls[issue] == nil {
		return notFound()
	}
	var items []any
	for _, cm := range s.sortedComments(r.FullName(), issue) {
		items = append(items, s.commentJSON(cm))
	}
	return s.paginate(c, items)
}

func (s *Server) createComment(c *call) *response {
	r := c.repo(s)
	issue := int(c.intParam("issue_number"))
	if r.pulls[issue] == nil {
		return notFound()
	}
	var in struct{ Body string }
	_ = c.decode(&in)
	if bad := s.checkBody(c, in.Body); bad != nil {
		return bad
	}
	return created(s.commentJSON(s.addComment(r, issue, s.author(c), in.Body)))
}

// comment returns the call's comment when it belongs to the call's
// repository.
func (s *Server) comment(c *call) *Comment {
	cm := s.st.comments[c.intParam("comment_id")]
	if cm == nil || !strings.EqualFold(cm.Repo, c.repo(s).FullName()) {
		return nil
	}
	return cm
}

func (s *Server) getComment(c *call) *response {
	cm := s.comment(c)
	if cm == nil {
		return notFound()
	}
	return ok(s.commentJSON(cm))
}

// updateComment edits a comment; like GitHub, an installation may edit
// only comments its bot wrote (403 otherwise, which also fails the test:
// fluxdiff must never edit a person's comment).
func (s *Server) updateComment(c *call) *response {
	cm := s.comment(c)
	if cm == nil {
		return notFound()
	}
	if cm.User != s.author(c) {
		s.errorf("githubtest: PATCH of comment %d written by %s, not by the App", cm.ID, cm.User)
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration")
	}
	var in struct{ Body string }
	_ = c.decode(&in)
	if bad := s.checkBody(c, in.Body); bad != nil {
		return bad
	}
	cm.Body = in.Body
	cm.Updated = time.Now()
	return ok(s.commentJSON(cm))
}

func (s *Server) deleteComment(c *call) *response {
	cm := s.comment(c)
	if cm == nil {
		return notFound()
	}
	if cm.User != s.author(c) {
		s.errorf("githubtest: DELETE of comment %d written by %s, not by the App", cm.ID, cm.User)
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration")
	}
	delete(s.st.comments, cm.ID)
	return &response{status: http.StatusNoContent}
}

// createReaction adds a reaction; a second identical reaction by the same
// user answers 200 with the existing one, as GitHub does.
func (s *Server) createReaction(c *call) *response {
	cm := s.comment(c)
	if cm == nil {
		return notFound()
	}
	var in struct{ Content string }
	_ = c.decode(&in)
	user := s.author(c)
	status := http.StatusCreated
	var re *Reaction
	for i := range cm.Reactions {
		if cm.Reactions[i].User == user && cm.Reactions[i].Content == in.Content {
			re, status = &cm.Reactions[i], http.StatusOK
		}
	}
	if re == nil {
		cm.Reactions = append(cm.Reactions, Reaction{ID: s.st.id(), User: user, Content: in.Content})
		re = &cm.Reactions[len(cm.Reactions)-1]
	}
	m := s.spec.example("reaction")
	m["id"] = re.ID
	m["content"] = re.Content
	m["user"] = s.user(re.User)
	m["created_at"] = stamp(time.Now())
	return &response{status: status, value: m}
}
