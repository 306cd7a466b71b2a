package githubtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

// rawCall sends one request with an installation token and returns the
// status.
func rawCall(t *testing.T, gh *githubtest.Server, c *github.Client, method, path, body string) int {
	t.Helper()
	req, err := c.NewRequest(method, strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req, _ = http.NewRequest(method, req.URL.String(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRequestsOutsideTheDescriptionFailTheTest(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		status                   int
		failure                  string
	}{
		{"unknown path", "GET", "/repos/acme/fleet/branches", "", 404, "no such path"},
		{"unknown method", "PUT", "/repos/acme/fleet/pulls/7", "", 405, "method not in the API description"},
		{"unknown query parameter", "GET", "/repos/acme/fleet/pulls/7/files?per_page=2&colour=red", "", 422, "colour"},
		{"query parameter of the wrong type", "GET", "/repos/acme/fleet/pulls/7/files?page=two", "", 422, "page"},
		{"body without a required field", "POST", "/repos/acme/fleet/check-runs", `{"name":"fluxdiff"}`, 422, "head_sha"},
		{"body with a wrong enum", "POST", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"abc","status":"done"}`, 422, "status"},
		{"completed check run without conclusion", "POST", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"abc","status":"completed"}`, 422, "needs a conclusion"},
		{"comment over GitHub's limit", "POST", "/repos/acme/fleet/issues/7/comments", `{"body":"` + strings.Repeat("x", 65537) + `"}`, 422, "over GitHub's 65536"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			gh, _ := fixture(t, githubtest.Options{})
			_, c := clients(t, gh)
			// A valid call first, so the token exchange is done.
			if _, _, err := c.PullRequests.Get(context.Background(), "acme", "fleet", 7); err != nil {
				t.Fatal(err)
			}
			gh.SetTB(rec)
			if got := rawCall(t, gh, c, tc.method, tc.path, tc.body); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			fails := rec.failures()
			if len(fails) != 1 || !strings.Contains(fails[0], tc.failure) {
				t.Errorf("test failures = %q, want one mentioning %q", fails, tc.failure)
			}
		})
	}
}

func TestMissingAuthorizationFailsTheTest(t *testing.T) {
	rec := &recorder{TB: t}
	gh, _ := fixture(t, githubtest.Options{})
	gh.SetTB(rec)
	resp, err := gh.Client().Get(gh.URL() + "repos/acme/fleet/pulls/7")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(rec.failures()) != 1 {
		t.Errorf("status %d, failures %q; want 401 and one failure", resp.StatusCode, rec.failures())
	}
}

func TestFaultsAnswerBeforeState(t *testing.T) {
	ctx := context.Background()
	gh, head := fixture(t, githubtest.Options{})
	_, c := clients(t, gh)
	gh.FailNext(githubtest.ServerError("POST", "/repos/{owner}/{repo}/check-runs", 502, 1))
	gh.FailNext(githubtest.SecondaryRateLimit("GET", "/repos/acme/*/pulls/7", 30*time.Second))
	_, resp, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "x", HeadSHA: head})
	if err == nil || resp.StatusCode != 502 {
		t.Fatalf("first create: %v, want 502", err)
	}
	if n := len(gh.CheckRuns("acme/fleet")); n != 0 {
		t.Errorf("a failed create stored %d check runs", n)
	}
	if _, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "x", HeadSHA: head}); err != nil {
		t.Errorf("second create: %v", err)
	}
	_, resp, err = c.PullRequests.Get(ctx, "acme", "fleet", 7)
	if err == nil || resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "30" {
		t.Errorf("rate limited GET: %v, status %d, Retry-After %q", err, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var statuses []int
	for _, r := range gh.Requests() {
		if r.Template == "/repos/{owner}/{repo}/check-runs" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 502 || statuses[1] != 201 {
		t.Errorf("check-run request statuses = %v, want [502 201]", statuses)
	}
}

func TestHoldKeepsARequestInFlightUntilReleased(t *testing.T) {
	ctx := context.Background()
	gh, head := fixture(t, githubtest.Options{})
	_, c := clients(t, gh)
	held, release := gh.Hold("POST", "/repos/{owner}/{repo}/check-runs")
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "x", HeadSHA: head})
		done <- err
	}()
	<-held
	select {
	case err := <-done:
		t.Fatalf("the held request was answered (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	if n := len(gh.CheckRuns("acme/fleet")); n != 0 {
		t.Errorf("a held create stored %d check runs", n)
	}
	release()
	release() // harmless
	if err := <-done; err != nil {
		t.Fatalf("released request: %v", err)
	}
	if n := len(gh.CheckRuns("acme/fleet")); n != 1 {
		t.Errorf("the released create stored %d check runs, want 1", n)
	}
	// Only the next request was held.
	if _, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "y", HeadSHA: head}); err != nil {
		t.Error(err)
	}
}

func TestAHeldRequestWhoseClientGivesUpChangesNothing(t *testing.T) {
	gh, head := fixture(t, githubtest.Options{})
	_, c := clients(t, gh)
	held, release := gh.Hold("POST", "/repos/{owner}/{repo}/check-runs")
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "x", HeadSHA: head})
		done <- err
	}()
	<-held
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	release()
	time.Sleep(50 * time.Millisecond)
	if n := len(gh.CheckRuns("acme/fleet")); n != 0 {
		t.Errorf("a request given up while held stored %d check runs", n)
	}
}
