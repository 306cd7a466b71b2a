package githubtest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Grant is one GitHub App repository permission at a level: Permission is
// the manifest's name ("pull_requests"), Access "read" or "write" (write
// includes read).
type Grant struct {
	Permission string
	Access     string
}

func (g Grant) String() string { return g.Permission + ":" + g.Access }

// routePermissions maps each "METHOD template" the stand-in serves to the
// grants an installation token needs for it, any one of which suffices;
// nil means the route needs no repository permission (it is called with
// the App's JWT, or is open to every token). Source: GitHub's "Permissions
// required for GitHub Apps" (the docs' server-to-server-permissions.json):
// issue comments may be reached through Issues or Pull requests, reactions
// to them only through Issues; the collaborator permission and the
// repository itself are Metadata.
var routePermissions = map[string][]Grant{
	"GET /app":               nil,
	"GET /app/installations": nil,
	"POST /app/installations/{installation_id}/access_tokens": nil,
	"GET /rate_limit":                                                   nil,
	"GET /repos/{owner}/{repo}/installation":                            nil,
	"GET /repos/{owner}/{repo}":                                         {{"metadata", "read"}},
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission":     {{"metadata", "read"}},
	"GET /repos/{owner}/{repo}/pulls":                                   {{"pull_requests", "read"}},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}":                     {{"pull_requests", "read"}},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/files":               {{"pull_requests", "read"}},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":             {{"pull_requests", "read"}},
	"POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews":            {{"pull_requests", "write"}},
	"GET /repos/{owner}/{repo}/tarball/{ref}":                           {{"contents", "read"}},
	"GET /repos/{owner}/{repo}/commits/{ref}":                           {{"contents", "read"}},
	"GET /repos/{owner}/{repo}/contents/{path}":                         {{"contents", "read"}},
	"GET /repos/{owner}/{repo}/git/ref/{ref}":                           {{"contents", "read"}},
	"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":          {{"issues", "read"}, {"pull_requests", "read"}},
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":         {{"issues", "write"}, {"pull_requests", "write"}},
	"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":            {{"issues", "read"}, {"pull_requests", "read"}},
	"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":          {{"issues", "write"}, {"pull_requests", "write"}},
	"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}":         {{"issues", "write"}, {"pull_requests", "write"}},
	"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": {{"issues", "write"}},
	"POST /repos/{owner}/{repo}/check-runs":                             {{"checks", "write"}},
	"GET /repos/{owner}/{repo}/check-runs/{check_run_id}":               {{"checks", "read"}},
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}":             {{"checks", "write"}},
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":                {{"checks", "read"}},
}

// mandatory are granted to every App that has any repository permission
// (GitHub: "Metadata" is mandatory and read-only), needed or not.
var mandatory = map[string]string{"metadata": "read"}

// Routes returns the distinct "METHOD template" of reqs, sorted, leaving
// out tarball downloads (template "", the redirect target, which the
// tarball link's token authorizes).
func Routes(reqs []Request) []string {
	set := map[string]bool{}
	for _, r := range reqs {
		if r.Template != "" {
			set[r.Method+" "+r.Template] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// CheckPermissions compares an App's granted permissions (a manifest's
// default_permissions: name → "read" or "write") with routes ("METHOD
// template", as Routes returns). It returns an error naming every route
// the grants do not cover, every route it has no permission for in its
// table, and every grant that could be lowered (write to read, read to
// none) with every route still covered, Metadata's mandatory read
// excepted; nil when the grants are exactly what the routes need.
func CheckPermissions(granted map[string]string, routes []string) error {
	errs := []error{CheckCovered(granted, routes)}
	for _, perm := range slices.Sorted(maps.Keys(granted)) {
		level := granted[perm]
		if level != "read" && level != "write" {
			errs = append(errs, fmt.Errorf("%s: %q is not read or write", perm, level))
			continue
		}
		if mandatory[perm] == level {
			continue
		}
		lower := maps.Clone(granted)
		if level == "write" {
			lower[perm] = "read"
		} else {
			delete(lower, perm)
		}
		if uses := needing(lower, routes); len(uses) == 0 {
			errs = append(errs, fmt.Errorf("%s: %s is granted, but no route seen needs more than %s", perm, level, lowerName(level)))
		}
	}
	return errors.Join(errs...)
}

// CheckCovered returns an error naming every route of routes ("METHOD
// template") that granted does not cover or that has no entry in the
// permission table; nil when granted covers them all.
func CheckCovered(granted map[string]string, routes []string) error {
	var errs []error
	for _, rt := range routes {
		alts, ok := routePermissions[rt]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no GitHub App permission is known for this route; add it to githubtest's table", rt))
			continue
		}
		if !covered(granted, alts) {
			errs = append(errs, fmt.Errorf("%s needs one of %v; the App has %v", rt, alts, granted))
		}
	}
	return errors.Join(errs...)
}

// needing returns the routes that granted does not cover.
func needing(granted map[string]string, routes []string) []string {
	var out []string
	for _, rt := range routes {
		if alts, ok := routePermissions[rt]; ok && !covered(granted, alts) {
			out = append(out, rt)
		}
	}
	return out
}

// covered reports whether granted satisfies one of alts (nil: no
// permission needed).
func covered(granted map[string]string, alts []Grant) bool {
	if alts == nil {
		return true
	}
	for _, g := range alts {
		have := granted[g.Permission]
		if have == g.Access || (have == "write" && g.Access == "read") {
			return true
		}
	}
	return false
}

func lowerName(level string) string {
	if level == "write" {
		return "read"
	}
	return "no access"
}

// AppManifestPermissions reads the default_permissions of the GitHub App
// manifest (YAML or JSON) at path, e.g. deploy/github-app.yaml.
func AppManifestPermissions(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m struct {
		DefaultPermissions map[string]string `json:"default_permissions"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("githubtest: %s: %w", path, err)
	}
	return m.DefaultPermissions, nil
}

// UpdateRoutesEnv, set to 1, makes CheckRoutesFile rewrite the file.
const UpdateRoutesEnv = "FLUXDIFF_UPDATE_GITHUB_ROUTES"

// CheckRoutesFile compares routes ("METHOD template", sorted, as Routes
// returns) with the file at path, one route a line: the record of what an
// end-to-end test called, which a test of the App manifest reads. With
// FLUXDIFF_UPDATE_GITHUB_ROUTES=1 in the environment it writes the file
// instead. The error says what differs.
func CheckRoutesFile(path string, routes []string) error {
	want := strings.Join(routes, "\n") + "\n"
	if os.Getenv(UpdateRoutesEnv) == "1" {
		return os.WriteFile(path, []byte(want), 0o644)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("githubtest: %w (run the test with %s=1 to write it)", err, UpdateRoutesEnv)
	}
	recorded := strings.Split(strings.TrimSpace(string(b)), "\n")
	var errs []error
	for _, rt := range routes {
		if !slices.Contains(recorded, rt) {
			errs = append(errs, fmt.Errorf("%s was called but is not in %s", rt, path))
		}
	}
	for _, rt := range recorded {
		if !slices.Contains(routes, rt) {
			errs = append(errs, fmt.Errorf("%s is in %s but was not called", rt, path))
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("if the change is meant, run the test with %s=1 and check deploy/github-app.yaml", UpdateRoutesEnv))
	}
	return errors.Join(errs...)
}

// CheckManifestAndRoutes is what an end-to-end test checks at its end:
// every route its requests used is allowed by the App manifest at
// manifestPath, and the routes are those recorded in routesFile (see
// CheckRoutesFile). The errors of both checks are joined.
func CheckManifestAndRoutes(manifestPath, routesFile string, reqs []Request) error {
	routes := Routes(reqs)
	granted, err := AppManifestPermissions(manifestPath)
	if err != nil {
		return err
	}
	return errors.Join(CheckCovered(granted, routes), CheckRoutesFile(routesFile, routes))
}
