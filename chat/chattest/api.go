package chattest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Message is a message as the stand-in holds it.
type Message struct {
	Channel, TS string
	// ThreadTS is the parent's ts for a thread reply, else empty.
	ThreadTS string
	Text     string
	// Blocks is the blocks JSON as last posted or updated.
	Blocks json.RawMessage
	// Updates counts chat.update calls (and replace_original responses).
	Updates int
}

// BlockTexts returns every "text" string in m.Blocks, in order.
func (m Message) BlockTexts() []string { return texts(m.Blocks) }

// File is an uploaded file.
type File struct {
	ID, Name, Title string
	Content         []byte
	// Channel and ThreadTS say where files.completeUploadExternal shared
	// it; Complete is set once it did.
	Channel, ThreadTS string
	Complete          bool
	Permalink         string
	length            int
}

// Messages returns the messages of channel (top level and replies), in
// posting order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Files returns the uploaded files, in order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.files))
	for _, f := range s.files {
		out = append(out, *f)
	}
	return out
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	ch := r.PostForm.Get("channel")
	if e := s.checkPost(r, ch); e != "" {
		writeJSON(w, map[string]any{"ok": false, "error": e})
		return
	}
	s.mu.Lock()
	m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: r.PostForm.Get("thread_ts"), Text: r.PostForm.Get("text"), Blocks: blocksOf(r)}
	if m.ThreadTS != "" && s.find(ch, m.ThreadTS) == nil {
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": map[string]any{"type": "message", "ts": m.TS, "text": m.Text}})
}

func (s *Server) updateMessage(w http.ResponseWriter, r *http.Request) {
	ch, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	if e := s.checkPost(r, ch); e != "" {
		writeJSON(w, map[string]any{"ok": false, "error": e})
		return
	}
	s.mu.Lock()
	m := s.find(ch, ts)
	if m != nil {
		m.Text, m.Blocks = r.PostForm.Get("text"), blocksOf(r)
		m.Updates++
	}
	s.mu.Unlock()
	if m == nil {
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text})
}

// checkPost returns the Slack error for a post to ch, or "". Blocks that
// Slack would refuse also fail the test: they are fluxdiff bugs.
func (s *Server) checkPost(r *http.Request, ch string) string {
	if ch == "" {
		return "channel_not_found"
	}
	s.mu.Lock()
	notIn := s.notIn[ch]
	s.mu.Unlock()
	if notIn {
		return "not_in_channel"
	}
	if r.PostForm.Get("text") == "" && r.PostForm.Get("blocks") == "" {
		s.r.Errorf("chattest: %s without text or blocks", r.URL.Path)
		return "no_text"
	}
	if b := r.PostForm.Get("blocks"); b != "" {
		if err := CheckBlocks([]byte(b)); err != nil {
			s.r.Errorf("chattest: %s: Slack would refuse these blocks: %v", r.URL.Path, err)
			return strings.SplitN(err.Error(), ":", 2)[0]
		}
	}
	return ""
}

func blocksOf(r *http.Request) json.RawMessage {
	if b := r.PostForm.Get("blocks"); b != "" {
		return json.RawMessage(b)
	}
	return nil
}

// find returns the message ch/ts; s.mu must be held.
func (s *Server) find(ch, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == ch && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) uploadURL(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("filename")
	length, err := strconv.Atoi(r.PostForm.Get("length"))
	if name == "" || err != nil || length <= 0 {
		s.r.Errorf("chattest: files.getUploadURLExternal needs filename and a positive length, got %q, %q", name, r.PostForm.Get("length"))
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	s.mu.Lock()
	f := &File{ID: fmt.Sprintf("F%d", len(s.files)+1), Name: name, length: length}
	s.files = append(s.files, f)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "file_id": f.ID, "upload_url": s.APIURL() + "upload/" + f.ID})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		s.r.Errorf("chattest: upload %s: no multipart \"file\" field: %v", id, err)
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	content, err := io.ReadAll(file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.ID == id {
			if len(content) != f.length {
				s.r.Errorf("chattest: upload %s: %d bytes, announced %d", id, len(content), f.length)
			}
			f.Content = content
			_, _ = fmt.Fprintf(w, "OK - %d", len(content))
			return
		}
	}
	http.Error(w, "unknown file", http.StatusNotFound)
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request) {
	var files []struct{ ID, Title string }
	if err := json.Unmarshal([]byte(r.PostForm.Get("files")), &files); err != nil || len(files) == 0 {
		s.r.Errorf("chattest: files.completeUploadExternal: bad files %q", r.PostForm.Get("files"))
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	ch, thread := r.PostForm.Get("channel_id"), r.PostForm.Get("thread_ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	var done []map[string]string
	for _, want := range files {
		f := s.fileLocked(want.ID)
		if f == nil || f.Content == nil {
			writeJSON(w, map[string]any{"ok": false, "error": "file_not_found"})
			return
		}
		f.Title, f.Channel, f.ThreadTS, f.Complete = want.Title, ch, thread, true
		f.Permalink = fmt.Sprintf("https://chattest.slack.com/files/%s/%s/%s", s.opts.TeamID, f.ID, f.Name)
		done = append(done, map[string]string{"id": f.ID, "title": f.Title})
	}
	writeJSON(w, map[string]any{"ok": true, "files": done})
}

func (s *Server) fileInfo(w http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("file")
	s.mu.Lock()
	f := s.fileLocked(id)
	var ans map[string]any
	if f != nil && f.Complete {
		ans = map[string]any{"ok": true, "file": map[string]any{"id": f.ID, "name": f.Name, "title": f.Title, "size": len(f.Content), "permalink": f.Permalink}}
	}
	s.mu.Unlock()
	if ans == nil {
		ans = map[string]any{"ok": false, "error": "file_not_found"}
	}
	writeJSON(w, ans)
}

func (s *Server) fileLocked(id string) *File {
	for _, f := range s.files {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
