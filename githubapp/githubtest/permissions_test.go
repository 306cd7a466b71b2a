package githubtest

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// Every route the stand-in serves has its permission in the table, so a
// route fluxdiff starts to call cannot slip past CheckPermissions.
func TestEveryServedRouteHasItsPermission(t *testing.T) {
	for _, rt := range slices.Sorted(maps.Keys(handlers)) {
		if _, ok := routePermissions[rt]; !ok {
			t.Errorf("%s is served but has no entry in routePermissions", rt)
		}
	}
	for rt := range routePermissions {
		if _, ok := handlers[rt]; !ok {
			t.Errorf("routePermissions lists %s, which the stand-in does not serve", rt)
		}
	}
}

func TestCheckPermissions(t *testing.T) {
	routes := []string{
		"POST /app/installations/{installation_id}/access_tokens",
		"POST /repos/{owner}/{repo}/check-runs",
		"GET /repos/{owner}/{repo}/pulls/{pull_number}",
		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
	}
	t.Run("exactly the needed grants pass, with the mandatory metadata", func(t *testing.T) {
		granted := map[string]string{"checks": "write", "pull_requests": "write", "metadata": "read"}
		// Pull requests write is needed: it is the only grant covering the
		// comment once issues is absent.
		if err := CheckPermissions(granted, routes); err != nil {
			t.Error(err)
		}
	})
	t.Run("a missing grant names the route", func(t *testing.T) {
		err := CheckPermissions(map[string]string{"pull_requests": "write"}, routes)
		if err == nil || !strings.Contains(err.Error(), "POST /repos/{owner}/{repo}/check-runs needs") {
			t.Errorf("err = %v, want the check-runs route named", err)
		}
	})
	t.Run("a grant no route needs, or a level too high, is refused", func(t *testing.T) {
		err := CheckPermissions(map[string]string{"checks": "write", "pull_requests": "write", "issues": "write", "contents": "read"}, routes)
		for _, want := range []string{"contents: read is granted", "issues: write is granted"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		}
	})
	t.Run("an unknown route is an error", func(t *testing.T) {
		if err := CheckPermissions(nil, []string{"GET /nowhere"}); err == nil {
			t.Error("no error for a route outside the table")
		}
	})
}
