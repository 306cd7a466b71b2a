package server

import (
	"net/http"
	"strconv"
	"time"

	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics records fluxdiff_http_request_duration_seconds by route pattern,
// method and status code.
func (s *Server) metrics() func(http.Handler) http.Handler {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fluxdiff_http_request_duration_seconds",
		Help:    "Duration of HTTP requests by chi route pattern, method and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "code"})
	s.opts.Registry.MustRegister(hist)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := chimw.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			hist.WithLabelValues(routePattern(r), r.Method, strconv.Itoa(statusOf(ww))).Observe(time.Since(start).Seconds())
		})
	}
}
