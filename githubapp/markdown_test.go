package githubapp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

func TestRenderCommentGolden(t *testing.T) {
	conflict := &diff.Report{PullRequest: testPR(), Clusters: []string{"prod"},
		Error: "the pull request has a merge conflict with main: GitHub computed no test-merge commit"}
	nothing := &diff.Report{PullRequest: testPR(), Clusters: []string{"prod"}, Kustomizations: []diff.KustomizationReport{}}
	tests := []struct {
		name string
		rep  *diff.Report
		opts RenderOptions
	}{
		{name: "full.md", rep: fullReport()},
		{name: "summary.md", rep: fullReport(), opts: RenderOptions{Summary: true, CheckRunName: "flux diff"}},
		{name: "merge-conflict.md", rep: conflict},
		{name: "nothing-affected.md", rep: nothing},
		{name: "risks.md", rep: riskyReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := RenderComment(tt.rep, tt.opts)
			if len(parts) != 1 {
				t.Fatalf("got %d parts, want 1", len(parts))
			}
			golden(t, tt.name, parts[0])
		})
	}
}

func TestRenderCommentSaysWhatItMust(t *testing.T) {
	got := RenderComment(fullReport(), RenderOptions{})[0]
	for _, want := range []string{
		"<!-- fluxdiff:sticky acme/fleet#42 part=1/1 -->\n",
		"<code>fedcba9</code>",                    // short merge SHA
		"<code>prod</code>, <code>staging</code>", // clusters
		"3,000 files", // the note
		"yaml: line 3: did not find expected key", // the build error, verbatim in a fence
		"teams/a&#124;b",   // a | in a path cannot split a table cell
		"&#60;b&#62;",      // HTML in a reason is shown, not interpreted
		"&#42;deeper&#42;", // Markdown in a warning is shown, not interpreted
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the comment lacks %q", want)
		}
	}
	if strings.Contains(got, "Service/podinfo/podinfo") {
		t.Error("an unchanged object is listed; only the counts should show it")
	}
	infra, apps := strings.Index(got, "infra</code> —"), strings.Index(got, "apps</code> —")
	if infra < 0 || apps < 0 || infra > apps {
		t.Errorf("the Kustomization with an error is not listed before the others (at %d, apps at %d)", infra, apps)
	}
	del, conf := strings.Index(got, "<b>deleted</b>"), strings.Index(got, "<b>configured</b>")
	if del < 0 || conf < 0 || del > conf {
		t.Error("a deletion is not listed before the changes of its Kustomization")
	}
}

// bigReport has k Kustomizations with n objects each, each object's diff
// having lines changed lines.
func bigReport(k, n, lines int) *diff.Report {
	rep := &diff.Report{PullRequest: testPR(), Clusters: []string{"prod"}}
	for i := range k {
		var cs []diff.Change
		for j := range n {
			cs = append(cs, change(diff.ActionConfigured, "ConfigMap", "ns", fmt.Sprintf("cm-%d-%d", i, j), lines))
		}
		rep.Kustomizations = append(rep.Kustomizations, ks("prod", "flux-system", fmt.Sprintf("ks-%d", i), "./ks", cs...))
	}
	return rep
}

// TestRenderCommentSplitKeepsEverything is the splitting property: for
// reports of many shapes and several limits, every part fits the limit,
// parts are numbered i/N, every <details> and fence opened in a part is
// closed in it, and the concatenated parts hold every diff line of every
// changed object.
func TestRenderCommentSplitKeepsEverything(t *testing.T) {
	huge := bigReport(1, 1, 3000) // one object larger than any part
	shapes := map[string]*diff.Report{
		"many small objects":       bigReport(3, 200, 3),
		"many Kustomizations":      bigReport(400, 1, 1),
		"one object over the part": huge,
		"mixed":                    fullReport(),
	}
	for name, rep := range shapes {
		for _, limit := range []int{4000, 20000, CommentLimit} {
			t.Run(fmt.Sprintf("%s/limit %d", name, limit), func(t *testing.T) {
				parts := RenderComment(rep, RenderOptions{Limit: limit})
				checkParts(t, rep, parts, limit)
			})
		}
	}
	if n := len(RenderComment(huge, RenderOptions{})); n < 2 {
		t.Errorf("an object of %d changed lines fits one comment (%d part); the test needs it bigger", 3000, n)
	}
}

func checkParts(t *testing.T, rep *diff.Report, parts []string, limit int) {
	t.Helper()
	lines := map[string]bool{}
	for _, p := range parts {
		for _, l := range strings.Split(p, "\n") {
			lines[l] = true
		}
	}
	for i, p := range parts {
		if len(p) > limit {
			t.Errorf("part %d is %d bytes, over the limit of %d", i+1, len(p), limit)
		}
		marker := StickyMarker("acme/fleet", 42, i+1, len(parts))
		if !strings.HasPrefix(p, marker+"\n") {
			t.Errorf("part %d does not start with %q", i+1, marker)
		}
		if o, c := strings.Count(p, "<details>"), strings.Count(p, "</details>"); o != c {
			t.Errorf("part %d opens %d <details> and closes %d", i+1, o, c)
		}
		if n := strings.Count(p, "```"); n%2 != 0 {
			t.Errorf("part %d has an unclosed code fence (%d fence lines)", i+1, n)
		}
	}
	for _, k := range rep.Kustomizations {
		for _, ch := range k.Changes {
			if ch.Action == diff.ActionUnchanged {
				continue
			}
			for _, line := range strings.Split(ch.Diff, "\n") {
				if !lines[line] {
					t.Fatalf("diff line %q of %s is in no part", line, ch.ID())
				}
			}
		}
	}
}

func TestRenderCommentSplitsAnOverlongLine(t *testing.T) {
	long := "+  blob: " + strings.Repeat("0123456789", 1000) // 10 kB on one line
	rep := &diff.Report{PullRequest: testPR(), Kustomizations: []diff.KustomizationReport{
		ks("prod", "flux-system", "apps", "./apps", diff.Change{Action: diff.ActionCreated, Kind: "ConfigMap", Name: "blob", Diff: long}),
	}}
	parts := RenderComment(rep, RenderOptions{Limit: 4000})
	var digits int
	for i, p := range parts {
		if len(p) > 4000 {
			t.Errorf("part %d is %d bytes", i+1, len(p))
		}
		for _, line := range strings.Split(p, "\n") {
			if strings.HasPrefix(line, "+") {
				digits += strings.Count(line, "0123456789")
			}
		}
	}
	if digits < 1000-len(parts) { // a cut may fall inside one repetition per part
		t.Errorf("the parts hold %d of the line's 1000 repetitions", digits)
	}
}

func TestEscapeNeutralisesMarkup(t *testing.T) {
	in := "<script>alert(1)</script> **bold** [x](http://evil) `code` | @team #1 ~~s~~ _i_ \\"
	got := esc(in)
	for _, bad := range []string{"<", ">", "**", "[", "](", "`", "|", "@", "~~", "_i_"} {
		if strings.Contains(got, bad) {
			t.Errorf("esc(%q) = %q still contains %q", in, got, bad)
		}
	}
	if !strings.Contains(got, "&#35;1") {
		t.Errorf("esc(%q) = %q leaves an issue reference", in, got)
	}
}
