// Package ghroute maps GitHub REST API paths to their route templates, e.g.
// "/repos/o/r/pulls/7" to "/repos/{owner}/{repo}/pulls/{pull_number}".
// The metrics middleware labels requests with templates (bounded
// cardinality) and the GitHub stand-in routes requests with the same
// matcher, built from the OpenAPI description.
package ghroute

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Table matches paths against a fixed set of templates.
type Table struct {
	routes []route
	src    map[string][]string
}

type route struct {
	template string
	re       *regexp.Regexp
	names    []string
	literal  int // characters outside parameters: more is more specific
}

// NewTable compiles templates (keys, OpenAPI path syntax "/a/{x}/b") into a
// Table. The value lists the parameters that may span several path segments
// (GitHub's "x-multi-segment", e.g. the ref of /tarball/{ref}, which may be
// "heads/main"); other parameters match exactly one segment. Among matching
// templates the one with the most literal characters wins, so
// "/commits/{ref}/check-runs" beats "/commits/{ref}".
func NewTable(templates map[string][]string) *Table {
	t := &Table{src: templates}
	for tmpl, multi := range templates {
		t.routes = append(t.routes, compile(tmpl, multi))
	}
	sort.Slice(t.routes, func(i, j int) bool {
		a, b := t.routes[i], t.routes[j]
		if a.literal != b.literal {
			return a.literal > b.literal
		}
		return a.template < b.template
	})
	return t
}

var param = regexp.MustCompile(`\{([^}]+)\}`)

func compile(tmpl string, multi []string) route {
	r := route{template: tmpl}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range param.FindAllStringSubmatchIndex(tmpl, -1) {
		lit := tmpl[last:m[0]]
		r.literal += len(lit)
		b.WriteString(regexp.QuoteMeta(lit))
		name := tmpl[m[2]:m[3]]
		r.names = append(r.names, name)
		seg := `([^/]+)`
		for _, n := range multi {
			if n == name {
				seg = `(.+)`
			}
		}
		b.WriteString(seg)
		last = m[1]
	}
	r.literal += len(tmpl[last:])
	b.WriteString(regexp.QuoteMeta(tmpl[last:]))
	b.WriteString("$")
	r.re = regexp.MustCompile(b.String())
	return r
}

// Match returns the template of path (an escaped URL path such as
// url.URL.EscapedPath, without any API prefix like "/api/v3") and its
// parameters, unescaped; ok is false when no template matches.
func (t *Table) Match(path string) (template string, params map[string]string, ok bool) {
	for _, r := range t.routes {
		m := r.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		params = make(map[string]string, len(r.names))
		for i, n := range r.names {
			v, err := url.PathUnescape(m[i+1])
			if err != nil {
				v = m[i+1]
			}
			params[n] = v
		}
		return r.template, params, true
	}
	return "", nil, false
}

// Templates returns the table's templates, sorted.
func (t *Table) Templates() []string {
	out := make([]string, 0, len(t.routes))
	for _, r := range t.routes {
		out = append(out, r.template)
	}
	sort.Strings(out)
	return out
}

// Source returns the templates and multi-segment parameters the table was
// built from; it must not be modified.
func (t *Table) Source() map[string][]string { return t.src }

// GitHub is the table of the REST API routes fluxdiff uses: the paths of
// testdata/github/rest-api-subset.json (a test keeps the two equal), with
// their multi-segment parameters.
var GitHub = NewTable(map[string][]string{
	"/app":               nil,
	"/app/installations": nil,
	"/app/installations/{installation_id}/access_tokens": nil,
	"/rate_limit":                                                  nil,
	"/repos/{owner}/{repo}":                                        nil,
	"/repos/{owner}/{repo}/check-runs":                             nil,
	"/repos/{owner}/{repo}/check-runs/{check_run_id}":              nil,
	"/repos/{owner}/{repo}/collaborators/{username}/permission":    nil,
	"/repos/{owner}/{repo}/commits/{ref}":                          {"ref"},
	"/repos/{owner}/{repo}/commits/{ref}/check-runs":               {"ref"},
	"/repos/{owner}/{repo}/compare/{basehead}":                     {"basehead"},
	"/repos/{owner}/{repo}/contents/{path}":                        {"path"},
	"/repos/{owner}/{repo}/git/ref/{ref}":                          {"ref"},
	"/repos/{owner}/{repo}/installation":                           nil,
	"/repos/{owner}/{repo}/issues/comments/{comment_id}":           nil,
	"/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": nil,
	"/repos/{owner}/{repo}/issues/{issue_number}/comments":         nil,
	"/repos/{owner}/{repo}/pulls":                                  nil,
	"/repos/{owner}/{repo}/pulls/{pull_number}":                    nil,
	"/repos/{owner}/{repo}/pulls/{pull_number}/files":              nil,
	"/repos/{owner}/{repo}/pulls/{pull_number}/reviews":            nil,
	"/repos/{owner}/{repo}/tarball/{ref}":                          {"ref"},
	"/repos/{owner}/{repo}/zipball/{ref}":                          {"ref"},
})
