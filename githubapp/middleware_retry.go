package githubapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
)

// RateLimitError is returned (wrapped in *url.Error by http.Client) when a
// GitHub rate limit would make a request wait longer than
// Config.MaxRetryWait, or still holds after Config.MaxRetries retries.
type RateLimitError struct {
	// Method and Route (the route template) identify the request.
	Method, Route string
	// Status is GitHub's answer, 403 or 429.
	Status int
	// Secondary is true for a secondary rate limit (Retry-After or the
	// "secondary rate limit" message), false for the primary limit
	// (X-RateLimit-Remaining: 0).
	Secondary bool
	// Reset is when GitHub accepts requests again.
	Reset time.Time
}

func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("githubapp: %s %s: github %s rate limit (status %d) until %s",
		e.Method, e.Route, kind, e.Status, e.Reset.UTC().Format(time.RFC3339))
}

// retryTransport retries requests GitHub did not complete:
//
//   - Rate limits (403 or 429 with Retry-After, X-RateLimit-Remaining: 0,
//     or the "secondary rate limit" message), for every method: GitHub
//     refused the request without acting on it. It waits Retry-After
//     seconds, or until X-RateLimit-Reset, or (secondary limit without
//     Retry-After) one minute doubling on each repeat, as GitHub's "Rate
//     limits for the REST API" page asks. A wait that would take the
//     request past Config.MaxRetryWait fails at once with *RateLimitError.
//   - 500, 502, 503, 504 and network errors, for idempotent methods (GET,
//     HEAD, OPTIONS, PUT, DELETE) only, with exponential backoff (1 s
//     doubling, at most 30 s) and jitter. POST and PATCH are not retried
//     after they may have reached GitHub: a repeated POST /check-runs
//     would create a second check run. They are retried when the request
//     certainly was not sent: a failed connection (dial) or a failed
//     installation token exchange (ghinstallation.HTTPError).
//
// Retries are bounded by Config.MaxRetries; waits end early when the
// request's context is cancelled. Bodies are rewound with
// http.Request.GetBody; a body that cannot be rewound is not retried.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	maxWait    time.Duration
	log        *slog.Logger
	prefix     string
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

func newRetryTransport(next http.RoundTripper, cfg Config, basePath string) *retryTransport {
	return &retryTransport{
		next: next, maxRetries: cfg.MaxRetries, maxWait: cfg.MaxRetryWait, log: cfg.Logger,
		prefix: strings.TrimSuffix(basePath, "/"), sleep: sleepCtx, now: time.Now,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verdict is what to do after an attempt.
type verdict struct {
	retry  bool
	wait   time.Duration
	reason string
	limit  *RateLimitError // set for rate limits
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	route := routeOf(t.prefix, req.URL.EscapedPath())
	var waited time.Duration
	secondaryHits := 0
	for attempt := 0; ; attempt++ {
		r, err := rewind(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(r)
		v := t.judge(req, resp, err, attempt, secondaryHits)
		if !v.retry || !rewindable || ctx.Err() != nil {
			return resp, err
		}
		if v.limit != nil {
			v.limit.Method, v.limit.Route = req.Method, route
			if v.limit.Secondary {
				secondaryHits++
			}
			if attempt >= t.maxRetries || waited+v.wait > t.maxWait {
				discard(resp)
				return nil, v.limit
			}
		} else if attempt >= t.maxRetries || waited+v.wait > t.maxWait {
			return resp, err
		}
		discard(resp)
		t.log.LogAttrs(ctx, slog.LevelWarn, "github request retried",
			slog.String("method", req.Method), slog.String("route", route),
			slog.Int("attempt", attempt+1), slog.String("reason", v.reason), slog.Duration("wait", v.wait))
		if err := t.sleep(ctx, v.wait); err != nil {
			return nil, fmt.Errorf("githubapp: %s %s: waiting to retry: %w", req.Method, route, err)
		}
		waited += v.wait
	}
}

// rewind returns the request for an attempt: req itself first, then
// clones with a fresh body.
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 {
		return req, nil
	}
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("githubapp: rewind request body: %w", err)
		}
		r.Body = body
	}
	return r, nil
}

// discard drains a little of resp's body (so the connection is reused)
// and closes it.
func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	resp.Body.Close()
}

var idempotent = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true, "PUT": true, "DELETE": true}

// judge classifies an attempt's outcome.
func (t *retryTransport) judge(req *http.Request, resp *http.Response, err error, attempt, secondaryHits int) verdict {
	if err != nil {
		var he *ghinstallation.HTTPError
		if errors.As(err, &he) {
			// The token exchange failed: the request itself was not sent.
			if he.Response != nil {
				defer discard(he.Response)
				return t.judgeResponse(he.Response, true, attempt, secondaryHits)
			}
			return verdict{retry: true, wait: backoff(attempt), reason: "installation token: " + err.Error()}
		}
		if idempotent[req.Method] || notSent(err) {
			return verdict{retry: true, wait: backoff(attempt), reason: err.Error()}
		}
		return verdict{}
	}
	return t.judgeResponse(resp, idempotent[req.Method], attempt, secondaryHits)
}

// notSent reports whether err shows the request never left: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func (t *retryTransport) judgeResponse(resp *http.Response, safe bool, attempt, secondaryHits int) verdict {
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		if l, wait := t.rateLimit(resp, secondaryHits); l != nil {
			return verdict{retry: true, wait: wait, limit: l, reason: "rate limit " + strconv.Itoa(resp.StatusCode)}
		}
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if safe {
			return verdict{retry: true, wait: backoff(attempt), reason: "status " + strconv.Itoa(resp.StatusCode)}
		}
	}
	return verdict{}
}

// backoff is the wait before retry attempt+1 after a transient failure:
// 1 s doubling per attempt, at most 30 s, with equal jitter (half fixed,
// half random) so that replicas do not retry in step.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 5)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

// secondaryWait is the wait after a secondary rate limit without
// Retry-After: GitHub asks for at least one minute, then exponentially
// longer while it persists.
func secondaryWait(hits int) time.Duration { return time.Minute << min(hits, 4) }

// rateLimit recognizes a rate limit answer (403 or 429) and returns the
// error to report and the wait before retrying; nil when resp is an
// ordinary 403 (permissions). It may read resp's body and replaces it with
// an equivalent reader.
func (t *retryTransport) rateLimit(resp *http.Response, secondaryHits int) (*RateLimitError, time.Duration) {
	now := t.now()
	l := &RateLimitError{Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			wait := time.Duration(n) * time.Second
			l.Secondary, l.Reset = true, now.Add(wait)
			return l, wait
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			l.Reset = time.Unix(n, 0)
			// One second past the reset: it is given in whole seconds.
			return l, max(l.Reset.Sub(now), 0) + time.Second
		}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
		wait := secondaryWait(secondaryHits)
		l.Secondary, l.Reset = true, now.Add(wait)
		return l, wait
	}
	return nil, 0
}
