package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"

	chimw "github.com/go-chi/chi/v5/middleware"
)

// recoverPanics turns a panic in a handler into a logged 500, so that no
// request can take the server down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic in handler",
				slog.Any("panic", v),
				slog.String("path", r.URL.Path),
				slog.String("request_id", chimw.GetReqID(r.Context())),
				slog.String("stack", string(debug.Stack())),
			)
			writeError(w, http.StatusInternalServerError, "internal error (request "+chimw.GetReqID(r.Context())+")")
		}()
		next.ServeHTTP(w, r)
	})
}
