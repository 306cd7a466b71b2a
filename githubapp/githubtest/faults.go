package githubtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Fault makes matching requests fail before they reach the stand-in's
// state (nothing is created or changed).
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches either the route template (e.g.
	// "/repos/{owner}/{repo}/pulls/{pull_number}") or the request path
	// without PathPrefix as a path.Match pattern (e.g. "/repos/acme/*/pulls/7").
	// Empty matches any.
	Path string
	// Times is how many matching requests fail (default 1).
	Times int
	// Status is the answer's status code.
	Status int
	// Header is added to the answer.
	Header http.Header
	// Body is the answer's body (default GitHub's {"message": ...}).
	Body string

	// hold, set by Hold, makes the request wait instead of failing.
	hold *hold
}

// hold is a Hold: release lets the request go on; arrived is closed when
// it comes.
type hold struct {
	release, arrived chan struct{}
	once             sync.Once
}

// ServerError is a fault answering status (e.g. 500, 502, 503) with
// GitHub's error body.
func ServerError(method, path string, status, times int) Fault {
	return Fault{Method: method, Path: path, Status: status, Times: times}
}

// SecondaryRateLimit is GitHub's secondary rate limit answer: 403 with a
// Retry-After header (seconds) and the "secondary rate limit" message
// (docs.github.com, "Rate limits for the REST API", exceeding the rate
// limit).
func SecondaryRateLimit(method, path string, retryAfter time.Duration) Fault {
	return Fault{
		Method: method, Path: path, Status: http.StatusForbidden,
		Header: http.Header{"Retry-After": {fmt.Sprint(int(retryAfter / time.Second))}},
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",` +
			`"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
	}
}

// PrimaryRateLimit is GitHub's primary rate limit answer: status (403 or
// 429) with X-RateLimit-Remaining: 0 and X-RateLimit-Reset at reset.
func PrimaryRateLimit(method, path string, status int, reset time.Time) Fault {
	return Fault{
		Method: method, Path: path, Status: status,
		Header: http.Header{
			"X-Ratelimit-Limit":     {"5000"},
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Used":      {"5000"},
			"X-Ratelimit-Reset":     {fmt.Sprint(reset.Unix())},
			"X-Ratelimit-Resource":  {"core"},
		},
		Body: `{"message":"API rate limit exceeded for installation ID 100.",` +
			`"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`,
	}
}

// FailNext queues f; faults are tried in the order queued and the first
// matching one with Times left answers the request.
func (s *Server) FailNext(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = append(s.fault, &f)
}

// Hold makes the next request matching method and path (as in Fault)
// wait until release is called, then be answered as usual: a request
// stays "in flight" for as long as a test needs. held is closed when the
// request arrives. A client that gives up meanwhile gets nothing, and the
// request changes nothing. release may be called more than once.
func (s *Server) Hold(method, path string) (held <-chan struct{}, release func()) {
	h := &hold{release: make(chan struct{}), arrived: make(chan struct{})}
	s.mu.Lock()
	s.fault = append(s.fault, &Fault{Method: method, Path: path, Times: 1, hold: h})
	s.mu.Unlock()
	var once sync.Once
	return h.arrived, func() { once.Do(func() { close(h.release) }) }
}

// wait holds a request for a Hold fault; it reports whether the request
// goes on (false: the client went away).
func (h *hold) wait(r *http.Request) bool {
	h.once.Do(func() { close(h.arrived) })
	select {
	case <-h.release:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) takeFault(method, template, reqPath string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.fault {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Path != "" && f.Path != template {
			if ok, _ := path.Match(f.Path, reqPath); !ok {
				continue
			}
		}
		f.Times--
		if f.Times == 0 {
			s.fault = append(s.fault[:i:i], s.fault[i+1:]...)
		}
		return f
	}
	return nil
}

func (f *Fault) response() *response {
	r := &response{status: f.Status, header: f.Header.Clone()}
	if f.Body != "" {
		r.body = []byte(f.Body)
		return r
	}
	e := errorResponse(f.Status, http.StatusText(f.Status))
	r.body, _ = e.encode()
	return r
}

// Request is one request the stand-in received.
type Request struct {
	Method string
	// Path is the escaped path without PathPrefix; Template its route
	// template ("" when it matched none, or for tarball downloads).
	Path     string
	Template string
	Query    url.Values
	// Header holds the request headers, Authorization included (tests
	// may check that no secret leaks elsewhere).
	Header http.Header
	Body   []byte
	// Status is the answer's status code.
	Status int
}

func (s *Server) record(r *http.Request, template string, body []byte, status int) {
	p := r.URL.EscapedPath()
	if pre := s.opts.PathPrefix; pre != "" {
		p = strings.TrimPrefix(p, pre)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, Request{
		Method: r.Method, Path: p, Template: template, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body, Status: status,
	})
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// CountRequests counts received requests with method (empty: any) and
// route template.
func (s *Server) CountRequests(method, template string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && r.Template == template {
			n++
		}
	}
	return n
}

// Leaks returns the requests whose body or query contains one of secrets
// (the Authorization header, where tokens belong, is not searched).
func (s *Server) Leaks(secrets ...string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		for _, sec := range secrets {
			if sec != "" && (bytes.Contains(r.Body, []byte(sec)) || strings.Contains(r.Query.Encode(), url.QueryEscape(sec))) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// checkLeaks fails the test when an installation token or the App's
// private key went into a request body or query (say, a comment).
func (s *Server) checkLeaks() {
	key := strings.Split(strings.TrimSpace(string(s.PrivateKeyPEM())), "\n")
	secrets := append(s.Tokens(), key[1]) // the key's first base64 line
	for _, r := range s.Leaks(secrets...) {
		s.errorf("githubtest: %s %s carries a secret (installation token or private key) in its body or query", r.Method, r.Path)
	}
}
