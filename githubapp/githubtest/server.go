// Package githubtest is a GitHub REST API stand-in for tests: an httptest
// server that checks every request fluxdiff makes, and every answer it
// gives, against GitHub's OpenAPI description
// (testdata/github/rest-api-subset.json), keeps repositories, pull
// requests, comments, reactions and check runs in memory, issues App JWT
// and installation tokens, and injects faults (5xx, rate limits).
//
// A request outside the description, with an invalid query or body, or
// without the right Authorization scheme is answered 4xx and fails the
// test through the testing.TB given to New; so does an answer of the
// stand-in that the description does not allow (a stand-in bug).
//
//	gh := githubtest.New(t, githubtest.Options{})
//	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
//	head := gh.AddCommit("acme/fleet", "", map[string][]byte{"apps/a.yaml": a})
//	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: head})
//	app, _ := githubapp.New(githubapp.Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), BaseURL: gh.URL()})
//	// ... exercise app ...
//	comments := gh.Comments("acme/fleet", 7)
package githubtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// AppID is the GitHub App's ID (default 1); App JWTs must carry it as
	// their issuer.
	AppID int64
	// AppSlug is the App's slug (default "fluxdiff"); comments made with
	// its installation tokens are authored by AppSlug+"[bot]".
	AppSlug string
	// InstallationID is the installation created by New (default 100);
	// repositories added without an installation belong to it.
	InstallationID int64
	// Account is the login owning that installation (default "acme").
	Account string
	// PathPrefix serves the API under a prefix, as GitHub Enterprise
	// Server does with "/api/v3"; empty serves it at the root like
	// api.github.com.
	PathPrefix string
	// TokenTTL is the lifetime of installation tokens (default 1h, as on
	// GitHub).
	TokenTTL time.Duration
	// SpecPath overrides the API description (default SpecFile under the
	// module root).
	SpecPath string
}

func (o Options) withDefaults() Options {
	if o.AppID == 0 {
		o.AppID = 1
	}
	if o.AppSlug == "" {
		o.AppSlug = "fluxdiff"
	}
	if o.InstallationID == 0 {
		o.InstallationID = 100
	}
	if o.Account == "" {
		o.Account = "acme"
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	o.PathPrefix = strings.TrimRight(o.PathPrefix, "/")
	return o
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	tb   atomic.Pointer[Reporter]
	opts Options
	spec *Spec
	srv  *httptest.Server

	mu    sync.Mutex
	st    *state
	log   []Request
	fault []*Fault
}

// Reporter receives the stand-in's failures. testing.TB satisfies it; a
// program that runs the stand-in outside a test (a demo) gives its own.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts a stand-in and registers its shutdown with t.Cleanup. It
// fails t (Fatalf) when the API description cannot be loaded.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(t, opts)
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	return s
}

// Start is New for any Reporter: it starts a stand-in whose failures go to
// r and registers its shutdown with r.Cleanup. It fails when the API
// description cannot be loaded.
func Start(r Reporter, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	spec, err := LoadSpec(opts.SpecPath)
	if err != nil {
		return nil, err
	}
	key, err := appKey()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, spec: spec, st: newState(opts, key)}
	s.tb.Store(&r)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	r.Cleanup(s.srv.Close)
	r.Cleanup(s.checkLeaks)
	return s, nil
}

// HTMLURL returns the web address of repo ("owner/name") as the API
// reports it in html_url; a GitRepository of the repository uses it (or
// it with ".git", the clone_url).
func (s *Server) HTMLURL(repo string) string { return s.webURL(repo) }

// URL returns the API base URL with a trailing slash, e.g.
// "http://127.0.0.1:PORT/" or, with PathPrefix, ".../api/v3/"; it is what
// githubapp.Config.BaseURL takes.
func (s *Server) URL() string { return s.srv.URL + s.opts.PathPrefix + "/" }

// Client returns an unauthenticated client for the server (for raw calls
// in tests).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AppID returns the App ID JWTs must carry.
func (s *Server) AppID() int64 { return s.opts.AppID }

// InstallationID returns the default installation's ID.
func (s *Server) InstallationID() int64 { return s.opts.InstallationID }

// BotLogin returns the App's bot login, AppSlug+"[bot]".
func (s *Server) BotLogin() string { return s.opts.AppSlug + "[bot]" }

// codeloadPrefix serves tarball downloads (the redirect target of
// /repos/{owner}/{repo}/tarball/{ref}); it stands for codeload.github.com
// and is outside the REST API, so it is not validated.
const codeloadPrefix = "/_codeload/"

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.HasPrefix(r.URL.Path, codeloadPrefix) {
		s.record(r, "", body, 0)
		s.serveCodeload(w, r)
		return
	}
	c, fail := s.route(r, body)
	if fail != nil {
		s.record(r, "", body, fail.status)
		s.errorf("githubtest: %s %s: %s", r.Method, r.URL.RequestURI(), fail.message)
		s.write(w, nil, fail.response())
		return
	}
	if f := s.takeFault(r.Method, c.template, c.path); f != nil && f.hold != nil {
		if !f.hold.wait(r) {
			s.record(r, c.template, body, 0)
			return
		}
	} else if f != nil {
		s.record(r, c.template, body, f.Status)
		s.writeRaw(w, f.response())
		return
	}
	resp := s.authenticate(c)
	if resp == nil {
		resp = s.dispatch(c)
	}
	s.record(r, c.template, body, resp.status)
	s.write(w, c, resp)
}

// write validates resp against the description (failing the test when it
// does not conform) and sends it.
func (s *Server) write(w http.ResponseWriter, c *call, resp *response) {
	data, err := resp.encode()
	if err != nil {
		s.errorf("githubtest: encode answer: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp.body = data
	if c != nil {
		if err := s.validateResponse(c, resp); err != nil {
			s.errorf("githubtest: answer %d to %s %s does not conform to the description: %v",
				resp.status, c.req.Method, c.template, err)
		}
	}
	s.writeRaw(w, resp)
}

func (s *Server) writeRaw(w http.ResponseWriter, resp *response) {
	h := w.Header()
	for k, v := range s.rateHeaders() {
		h[k] = v
	}
	for k, v := range resp.header {
		h[k] = v
	}
	if resp.body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// rateHeaders are the primary rate limit headers GitHub sends with every
// answer; the stand-in reports a generous, untouched budget.
func (s *Server) rateHeaders() http.Header {
	reset := time.Now().Add(time.Hour).Unix()
	return http.Header{
		"X-Ratelimit-Limit":     {"5000"},
		"X-Ratelimit-Remaining": {"4999"},
		"X-Ratelimit-Used":      {"1"},
		"X-Ratelimit-Reset":     {fmt.Sprint(reset)},
		"X-Ratelimit-Resource":  {"core"},
		"X-Github-Request-Id":   {"0000:0000:0000000:0000000:00000000"},
	}
}

// ctx returns a context for validation calls.
func (s *Server) ctx() context.Context { return context.Background() }

// SetTB replaces the testing.TB that request failures are reported to
// (the stand-in's own tests use a recorder to observe them).
func (s *Server) SetTB(t testing.TB) { r := Reporter(t); s.tb.Store(&r) }

// errorf fails the test (request failures are the client's or the
// stand-in's bugs).
func (s *Server) errorf(format string, args ...any) {
	t := *s.tb.Load()
	t.Helper()
	t.Errorf(format, args...)
}

// fatalf stops the test (fixture misuse).
func (s *Server) fatalf(format string, args ...any) {
	t := *s.tb.Load()
	t.Helper()
	t.Fatalf(format, args...)
}
