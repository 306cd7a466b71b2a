package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Check is one readiness check: a real dependency such as a cluster's API
// server or the store.
type Check struct {
	// Name is shown in the /readyz body, e.g. "cluster/prod".
	Name string
	// Run returns nil when the dependency is usable.
	Run func(ctx context.Context) error
}

// CheckResult is one line of the /readyz body.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	TookMS int64  `json:"tookMs"`
	// Excluded checks were not run (?exclude=).
	Excluded bool `json:"excluded,omitempty"`
}

// ReadyReport is the /readyz body.
type ReadyReport struct {
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks"`
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz runs every check in parallel with a short deadline and answers 200
// only when all pass; the body lists each check either way. Like the
// Kubernetes API server, it takes ?exclude=NAME (repeatable) to leave checks
// out; a name ending in "/" excludes every check under it, so a pod's
// readiness probe can use /readyz?exclude=cluster/ and stay in its Service
// while one cluster is down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	excluded := r.URL.Query()["exclude"]
	rep := ReadyReport{Ready: true, Checks: make([]CheckResult, len(s.opts.Checks))}
	var wg sync.WaitGroup
	for i, c := range s.opts.Checks {
		if isExcluded(c.Name, excluded) {
			rep.Checks[i] = CheckResult{Name: c.Name, OK: true, Excluded: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := c.Run(ctx)
			res := CheckResult{Name: c.Name, OK: err == nil, TookMS: time.Since(start).Milliseconds()}
			if err != nil {
				res.Error = err.Error()
			}
			rep.Checks[i] = res
		}()
	}
	wg.Wait()
	status := http.StatusOK
	for _, c := range rep.Checks {
		if !c.OK {
			rep.Ready = false
			status = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, rep)
}

// isExcluded matches a check name against ?exclude= values: exact names, or
// prefixes ending in "/".
func isExcluded(name string, excluded []string) bool {
	for _, e := range excluded {
		if name == e || (strings.HasSuffix(e, "/") && strings.HasPrefix(name, e)) {
			return true
		}
	}
	return false
}
