package chattest

import "net/http"

// SetGroup makes user group id ("S…") hold members, for
// usergroups.users.list.
func (s *Server) SetGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil {
		s.groups = map[string][]string{}
	}
	s.groups[id] = append([]string(nil), members...)
}

func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	members, ok := s.groups[r.PostForm.Get("usergroup")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "users": append([]string{}, members...)})
}
