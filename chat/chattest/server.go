// Package chattest is a Slack Web API stand-in for tests, built on
// slack-go's slacktest server: it keeps the messages, thread replies and
// files fluxdiff posts, answers response_url posts, checks every message
// against Slack's Block Kit limits (a message Slack would refuse fails the
// test), and records every request so that tests can prove no secret was
// sent.
//
//	sl := chattest.New(t, chattest.Options{})
//	client := chat.NewClient(chat.ClientOptions{Token: sl.Token(), APIURL: sl.APIURL()})
//	// ... exercise client ...
//	msgs := sl.Messages("C0FLUX")
package chattest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Token is the bot token the stand-in accepts (default
	// "xoxb-chattest"); other tokens are answered invalid_auth.
	Token string
	// TeamID is the workspace ID in permalinks (default "T0FLUX").
	TeamID string
}

// Reporter receives the stand-in's failures; testing.TB satisfies it.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	r    Reporter
	st   *slacktest.Server

	mu        sync.Mutex
	clock     int64
	requests  []Request
	messages  []*Message
	files     []*File
	responses []Response
	notIn     map[string]bool
	groups    map[string][]string
}

// Request is one request received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// New starts a stand-in and registers its shutdown with t.Cleanup.
func New(t testing.TB, opts Options) *Server { return Start(t, opts) }

// Start is New for any Reporter.
func Start(r Reporter, opts Options) *Server {
	if opts.Token == "" {
		opts.Token = "xoxb-chattest"
	}
	if opts.TeamID == "" {
		opts.TeamID = "T0FLUX"
	}
	s := &Server{opts: opts, r: r, clock: time.Now().Unix() * 1e6, notIn: map[string]bool{}}
	s.st = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.recorded(s.authed(s.postMessage)))
		c.Handle("/chat.update", s.recorded(s.authed(s.updateMessage)))
		c.Handle("/files.getUploadURLExternal", s.recorded(s.authed(s.uploadURL)))
		c.Handle("/files.completeUploadExternal", s.recorded(s.authed(s.completeUpload)))
		c.Handle("/files.info", s.recorded(s.authed(s.fileInfo)))
		c.Handle("/usergroups.users.list", s.recorded(s.authed(s.groupMembers)))
		c.Handle("/upload/", s.recorded(s.upload))
		c.Handle("/response/", s.recorded(s.respond))
	})
	s.st.Start()
	r.Cleanup(s.st.Stop)
	return s
}

// Token is the accepted bot token.
func (s *Server) Token() string { return s.opts.Token }

// APIURL is the Web API root with a trailing slash, for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.st.GetAPIURL() }

// ResponseURL returns a new response_url, as Slack puts in commands and
// interactions; posts to it are kept (see Responses). With channel and ts
// of a message, replace_original replaces that message.
func (s *Server) ResponseURL(channel, ts string) string {
	s.mu.Lock()
	s.clock++
	n := s.clock
	s.mu.Unlock()
	q := url.Values{"channel": {channel}, "ts": {ts}}
	return fmt.Sprintf("%sresponse/%d?%s", s.APIURL(), n, q.Encode())
}

// NotInChannel makes posts to channel fail with not_in_channel, as when
// the bot was never invited.
func (s *Server) NotInChannel(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notIn[channel] = true
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Leaks returns the requests whose body holds one of secrets. The "token"
// form field, where slack-go sends the bot token, is not searched; the
// Authorization header is not either.
func (s *Server) Leaks(secrets ...string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		body := r.Body
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if v, err := url.ParseQuery(string(body)); err == nil {
				v.Del("token")
				body = []byte(strings.Join(flatten(v), "\n"))
			}
		}
		for _, sec := range secrets {
			if sec != "" && bytes.Contains(body, []byte(sec)) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

func flatten(v url.Values) []string {
	var out []string
	for k, vs := range v {
		for _, x := range vs {
			out = append(out, k+"="+x)
		}
	}
	return out
}

// recorded keeps every request with its body.
func (s *Server) recorded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}
}

// authed answers invalid_auth unless the request carries the bot token
// (form field "token" or Authorization: Bearer).
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.r.Errorf("chattest: %s: bad form: %v", r.URL.Path, err)
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		tok := r.PostForm.Get("token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && tok == "" {
			tok = bearer
		}
		if tok != s.opts.Token {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		h(w, r)
	}
}

// nextTS returns a new, increasing message timestamp ("1700000000.000001").
func (s *Server) nextTS() string {
	s.clock++
	return fmt.Sprintf("%d.%06d", s.clock/1e6, s.clock%1e6)
}
