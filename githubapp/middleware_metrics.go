package githubapp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fluxdiff/fluxdiff/githubapp/internal/ghroute"
)

// otherRoute labels requests outside the REST API route table (tarball
// downloads from codeload, redirects).
const otherRoute = "other"

// metricsTransport counts and times every HTTP request sent to GitHub
// (each retry attempt and each installation token request included) and
// logs it at debug. Labels use the route template, never the raw path, so
// the series stay bounded; logs never carry headers or bodies (tokens).
type metricsTransport struct {
	next     http.RoundTripper
	log      *slog.Logger
	prefix   string // API base path without its trailing slash, e.g. "/api/v3"
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetricsTransport(next http.RoundTripper, log *slog.Logger, reg prometheus.Registerer, basePath string) (*metricsTransport, error) {
	m := &metricsTransport{
		next:   next,
		log:    log,
		prefix: strings.TrimSuffix(basePath, "/"),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fluxdiff_github_requests_total",
			Help: "HTTP requests sent to the GitHub API, by route template, method and status code (\"error\" when no answer came).",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fluxdiff_github_request_duration_seconds",
			Help:    "Duration of HTTP requests sent to the GitHub API, by route template and method.",
			Buckets: prometheus.ExponentialBuckets(0.025, 2, 10),
		}, []string{"route", "method"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (several Apps may share one registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("githubapp: register metrics: %w", err)
	}
	return c, nil
}

// routeOf returns the route template of a request path under the API
// base path prefix (e.g. "/api/v3"; "" for api.github.com).
func routeOf(prefix, path string) string {
	if prefix != "" {
		if !strings.HasPrefix(path, prefix+"/") {
			return otherRoute
		}
		path = strings.TrimPrefix(path, prefix)
	}
	if tmpl, _, ok := ghroute.GitHub.Match(path); ok {
		return tmpl
	}
	return otherRoute
}

// RoundTrip implements http.RoundTripper.
func (m *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	route := routeOf(m.prefix, req.URL.EscapedPath())
	start := time.Now()
	resp, err := m.next.RoundTrip(req)
	d := time.Since(start)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	m.requests.WithLabelValues(route, req.Method, status).Inc()
	m.duration.WithLabelValues(route, req.Method).Observe(d.Seconds())
	m.log.LogAttrs(req.Context(), slog.LevelDebug, "github request",
		slog.String("method", req.Method), slog.String("route", route),
		slog.String("status", status), slog.Duration("duration", d))
	return resp, err
}
