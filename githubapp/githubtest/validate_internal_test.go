package githubtest

import (
	"net/http"
	"strings"
	"testing"
)

// The stand-in's answers are checked too: an answer missing a required
// field is caught (a stand-in bug would otherwise teach the client wrong
// shapes).
func TestAnswersAreValidated(t *testing.T) {
	s := New(t, Options{})
	s.AddRepo(Repo{Owner: "acme", Name: "fleet"})
	s.AddPullRequest("acme/fleet", PullRequest{Number: 7, HeadSHA: SHA("h")})
	req, _ := http.NewRequest("GET", s.URL()+"repos/acme/fleet/pulls/7", nil)
	c, fail := s.route(req, nil)
	if fail != nil {
		t.Fatal(fail.message)
	}
	s.mu.Lock()
	good := s.getPull(c)
	s.mu.Unlock()
	good.body, _ = good.encode()
	if err := s.validateResponse(c, good); err != nil {
		t.Fatalf("the stand-in's own answer does not validate: %v", err)
	}
	m := good.value.(obj)
	delete(m, "number")
	bad := &response{status: http.StatusOK, value: m}
	bad.body, _ = bad.encode()
	err := s.validateResponse(c, bad)
	if err == nil || !strings.Contains(err.Error(), "number") {
		t.Errorf("answer without number: err = %v, want one naming it", err)
	}
	undocumented := &response{status: http.StatusAccepted, value: obj{}}
	undocumented.body, _ = undocumented.encode()
	if err := s.validateResponse(c, undocumented); err == nil {
		t.Error("an undocumented success status passed")
	}
}
