package githubapp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

const prRoute = "/repos/{owner}/{repo}/pulls/{pull_number}"

func statuses(gh *githubtest.Server, method, route string) []int {
	var out []int
	for _, r := range gh.Requests() {
		if r.Method == method && r.Template == route {
			out = append(out, r.Status)
		}
	}
	return out
}

func TestRetriesTransientFailuresOfIdempotentRequests(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{})
	gh.FailNext(githubtest.ServerError("GET", prRoute, http.StatusBadGateway, 2))
	if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
		t.Fatalf("GET after two 502s: %v", err)
	}
	if got := statuses(gh, "GET", prRoute); len(got) != 3 || got[2] != 200 {
		t.Errorf("statuses = %v, want [502 502 200]", got)
	}
	waits := sl.got()
	if len(waits) != 2 || waits[0] < 500*time.Millisecond || waits[0] > time.Second || waits[1] < time.Second || waits[1] > 2*time.Second {
		t.Errorf("backoff waits = %v, want one in [0.5s,1s] then one in [1s,2s]", waits)
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{}, Config{MaxRetries: 2})
	gh.FailNext(githubtest.ServerError("GET", prRoute, http.StatusServiceUnavailable, 10))
	_, err := getPR(ctx, t, app, gh.InstallationID())
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response.StatusCode != 503 {
		t.Fatalf("err = %v, want GitHub's 503", err)
	}
	if n := len(statuses(gh, "GET", prRoute)); n != 3 {
		t.Errorf("sent %d times, want 3 (1 + MaxRetries)", n)
	}
}

// A POST that may have reached GitHub is not repeated: a second
// POST /check-runs would make a second check run.
func TestDoesNotRepeatPostAfterServerError(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{}, Config{})
	c, _ := app.Installation(gh.InstallationID())
	gh.FailNext(githubtest.ServerError("POST", "/repos/{owner}/{repo}/check-runs", http.StatusBadGateway, 1))
	_, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "fluxdiff", HeadSHA: githubtest.SHA("h")})
	if err == nil {
		t.Fatal("POST after 502 succeeded")
	}
	if got := statuses(gh, "POST", "/repos/{owner}/{repo}/check-runs"); len(got) != 1 {
		t.Errorf("POST sent with statuses %v, want once", got)
	}
}

func TestSecondaryRateLimitWaitsRetryAfter(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{})
	c, _ := app.Installation(gh.InstallationID())
	gh.FailNext(githubtest.SecondaryRateLimit("POST", "/repos/{owner}/{repo}/check-runs", 42*time.Second))
	cr, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{Name: "fluxdiff", HeadSHA: githubtest.SHA("h")})
	if err != nil {
		t.Fatalf("POST after a secondary rate limit: %v", err)
	}
	if w := sl.got(); len(w) != 1 || w[0] != 42*time.Second {
		t.Errorf("waits = %v, want [42s] (Retry-After)", w)
	}
	if runs := gh.CheckRuns("acme/fleet"); len(runs) != 1 || runs[0].ID != cr.GetID() {
		t.Errorf("check runs = %d, want exactly the one created", len(runs))
	}
}

func TestSecondaryRateLimitWithoutRetryAfterWaitsAMinute(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{})
	f := githubtest.SecondaryRateLimit("GET", prRoute, 0)
	f.Header = nil
	gh.FailNext(f)
	if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
		t.Fatal(err)
	}
	if w := sl.got(); len(w) != 1 || w[0] != time.Minute {
		t.Errorf("waits = %v, want [1m]", w)
	}
}

func TestPrimaryRateLimitBeyondMaxRetryWaitFails(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{MaxRetryWait: time.Minute})
	reset := time.Now().Add(20 * time.Minute).Truncate(time.Second)
	gh.FailNext(githubtest.PrimaryRateLimit("GET", prRoute, http.StatusForbidden, reset))
	_, err := getPR(ctx, t, app, gh.InstallationID())
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *RateLimitError", err)
	}
	if !rl.Reset.Equal(reset) || rl.Secondary || rl.Route != prRoute || rl.Status != 403 {
		t.Errorf("RateLimitError = %+v, want primary, reset %s, route %s", rl, reset, prRoute)
	}
	if w := sl.got(); len(w) != 0 {
		t.Errorf("waited %v before failing, want no wait", w)
	}
}

func TestPrimaryRateLimitWithinMaxRetryWaitWaitsForReset(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{})
	reset := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	gh.FailNext(githubtest.PrimaryRateLimit("GET", prRoute, http.StatusTooManyRequests, reset))
	if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
		t.Fatal(err)
	}
	w := sl.got()
	if len(w) != 1 || w[0] < time.Minute || w[0] > 2*time.Minute+time.Second {
		t.Errorf("waits = %v, want about 2m (until X-RateLimit-Reset)", w)
	}
}

func TestTokenExchangeFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	gh, app, _ := standIn(t, githubtest.Options{}, Config{})
	gh.FailNext(githubtest.ServerError("POST", tokenRoute, http.StatusInternalServerError, 1))
	if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
		t.Fatalf("GET after a failed token exchange: %v", err)
	}
	if got := statuses(gh, "POST", tokenRoute); len(got) != 2 || got[1] != 201 {
		t.Errorf("token statuses = %v, want [500 201]", got)
	}
}

func TestOrdinaryForbiddenIsNotRetried(t *testing.T) {
	ctx := context.Background()
	gh, app, sl := standIn(t, githubtest.Options{}, Config{})
	gh.FailNext(githubtest.Fault{Method: "GET", Path: prRoute, Status: 403,
		Body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`})
	if _, err := getPR(ctx, t, app, gh.InstallationID()); err == nil {
		t.Fatal("GET after 403 succeeded")
	}
	if len(sl.got()) != 0 || len(statuses(gh, "GET", prRoute)) != 1 {
		t.Errorf("a permission 403 was retried")
	}
}

func TestCancelledContextStopsTheWait(t *testing.T) {
	gh, app, _ := standIn(t, githubtest.Options{}, Config{})
	app.sleep = sleepCtx // real waits, ended by the context
	gh.FailNext(githubtest.SecondaryRateLimit("GET", prRoute, 30*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := getPR(ctx, t, app, gh.InstallationID())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("err = %v after %s, want the deadline promptly", err, time.Since(start))
	}
}

func TestNetworkErrorsOfPostAreRetriedOnlyWhenUnsent(t *testing.T) {
	dial := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	reset := &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
	rt := &retryTransport{}
	post, _ := http.NewRequest("POST", "https://api.github.com/repos/a/b/check-runs", nil)
	get, _ := http.NewRequest("GET", "https://api.github.com/repos/a/b", nil)
	for _, tc := range []struct {
		req  *http.Request
		err  error
		want bool
	}{{post, dial, true}, {post, reset, false}, {get, reset, true}} {
		if got := rt.judge(tc.req, nil, tc.err, 0, 0).retry; got != tc.want {
			t.Errorf("%s after %v: retry = %v, want %v", tc.req.Method, tc.err, got, tc.want)
		}
	}
}
