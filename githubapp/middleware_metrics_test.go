package githubapp

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

func TestMetricsCountByRouteTemplate(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewPedanticRegistry()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gh, app, _ := standIn(t, githubtest.Options{PathPrefix: "/api/v3"}, Config{Registerer: reg, Logger: log})
	gh.FailNext(githubtest.ServerError("GET", prRoute, http.StatusBadGateway, 1))
	for range 2 {
		if _, err := getPR(ctx, t, app, gh.InstallationID()); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP fluxdiff_github_requests_total HTTP requests sent to the GitHub API, by route template, method and status code ("error" when no answer came).
# TYPE fluxdiff_github_requests_total counter
fluxdiff_github_requests_total{method="GET",route="/repos/{owner}/{repo}/pulls/{pull_number}",status="200"} 2
fluxdiff_github_requests_total{method="GET",route="/repos/{owner}/{repo}/pulls/{pull_number}",status="502"} 1
fluxdiff_github_requests_total{method="POST",route="/app/installations/{installation_id}/access_tokens",status="201"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "fluxdiff_github_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "fluxdiff_github_request_duration_seconds"); n != 2 {
		t.Errorf("duration series = %d, want 2 (one per route and method)", n)
	}
	// A second App on the same registry shares the collectors.
	if _, err := New(Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), BaseURL: gh.URL(), Registerer: reg}); err != nil {
		t.Errorf("second App on one registry: %v", err)
	}
	for _, secret := range append(gh.Tokens(), "Bearer", "Authorization", "ghs_") {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	if !strings.Contains(logs.String(), `route=/repos/{owner}/{repo}/pulls/{pull_number}`) {
		t.Errorf("no debug log with the route template:\n%s", logs.String())
	}
}
