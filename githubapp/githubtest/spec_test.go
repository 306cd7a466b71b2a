package githubtest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/githubapp/internal/ghroute"
)

// The metrics middleware labels requests with ghroute.GitHub's templates;
// they must be exactly the description's paths.
func TestRouteTableIsTheDescriptions(t *testing.T) {
	spec, err := githubtest.LoadSpec("")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(spec.MultiSegment(), ghroute.GitHub.Source(), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("ghroute.GitHub differs from %s (-description +table):\n%s", githubtest.SpecFile, d)
	}
}

func TestRouteMatching(t *testing.T) {
	cases := map[string]string{
		"/repos/a/b/commits/heads/main/check-runs": "/repos/{owner}/{repo}/commits/{ref}/check-runs",
		"/repos/a/b/commits/0123abc":               "/repos/{owner}/{repo}/commits/{ref}",
		"/repos/a/b/issues/comments/5":             "/repos/{owner}/{repo}/issues/comments/{comment_id}",
		"/repos/a/b/issues/5/comments":             "/repos/{owner}/{repo}/issues/{issue_number}/comments",
		"/repos/a/b/tarball/refs/heads/main":       "/repos/{owner}/{repo}/tarball/{ref}",
		"/repos/a/b/branches":                      "",
	}
	for path, want := range cases {
		got, _, _ := ghroute.GitHub.Match(path)
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", path, got, want)
		}
	}
	_, params, _ := ghroute.GitHub.Match("/repos/a/b/contents/apps/x%20y.yaml")
	if params["path"] != "apps/x y.yaml" || params["owner"] != "a" {
		t.Errorf("params = %v", params)
	}
}
