package chattest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Response is a message posted to a response_url.
type Response struct {
	// URL is the response_url it was posted to.
	URL string
	// ResponseType is "ephemeral" (or empty) or "in_channel".
	ResponseType    string          `json:"response_type"`
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// Responses returns what was posted to response URLs, in order; with a
// URL, only to that one.
func (s *Server) Responses(responseURL string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Response
	for _, r := range s.responses {
		if responseURL == "" || r.URL == responseURL {
			out = append(out, r)
		}
	}
	return out
}

// respond takes a post to a response_url: JSON, no token (Slack's response
// URLs are capabilities; sending the bot token there would leak it).
func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	full := s.APIURL() + strings.TrimPrefix(r.URL.RequestURI(), "/")
	if r.Header.Get("Authorization") != "" {
		s.r.Errorf("chattest: a response_url post carried an Authorization header")
	}
	var resp Response
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil {
		s.r.Errorf("chattest: response_url post is not JSON: %v", err)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	resp.URL = full
	if resp.Text == "" && len(resp.Blocks) == 0 && !resp.DeleteOriginal {
		s.r.Errorf("chattest: response_url post without text or blocks")
	}
	if len(resp.Blocks) > 0 && string(resp.Blocks) != "null" {
		if err := CheckBlocks(resp.Blocks); err != nil {
			s.r.Errorf("chattest: response_url: Slack would refuse these blocks: %v", err)
			http.Error(w, "invalid_blocks", http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp.ReplaceOriginal {
		q := r.URL.Query()
		if m := s.find(q.Get("channel"), q.Get("ts")); m != nil {
			m.Text, m.Blocks = resp.Text, resp.Blocks
			m.Updates++
		}
	}
	s.responses = append(s.responses, resp)
	_, _ = w.Write([]byte("ok"))
}
