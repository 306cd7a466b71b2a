package githubapp

import (
	"fmt"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
)

// maxAnnotationTitle bounds an annotation's title (GitHub: 255 characters).
const maxAnnotationTitle = 250

// riskAnnotations turns the report's risk flags that carry a file and line
// into check run annotations on those lines: "warning" for a risk,
// "notice" for an image change. Flags without a location appear only in
// the summary.
func riskAnnotations(rep *diff.Report) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for _, f := range rep.Risks() {
		if f.File == "" || f.Line <= 0 {
			continue
		}
		level, title := "warning", fmt.Sprintf("Risk (%s): %s", f.Kind, f.ObjectID())
		if !f.Warning() {
			level, title = "notice", "Image change: "+f.ObjectID()
		}
		where := "Kustomization " + f.Kustomization
		if f.Cluster != "" {
			where = "Cluster " + f.Cluster + ", " + where
		}
		if f.HelmRelease != "" {
			where += ", HelmRelease " + f.HelmRelease + " (a rendered object)"
		}
		msg := f.Message + "\n\n" + where + "."
		out = append(out, &github.CheckRunAnnotation{
			Path:            github.String(f.File),
			StartLine:       github.Int(f.Line),
			EndLine:         github.Int(f.Line),
			AnnotationLevel: github.String(level),
			Title:           github.String(truncateRunes(title, maxAnnotationTitle)),
			Message:         github.String(truncateRunes(msg, maxAnnotationMessage)),
		})
	}
	return out
}

// riskSegments renders the blast-radius line, then the risk flags and the
// image changes of the report, one segment per entry so that a long list
// splits between entries.
func riskSegments(rep *diff.Report) []segment {
	segs := []segment{textSegment("**Blast radius:** " + esc(rep.BlastRadius().String()) + "\n\n")}
	var warnings, images []diff.ReportRisk
	for _, f := range rep.Risks() {
		if f.Warning() {
			warnings = append(warnings, f)
		} else {
			images = append(images, f)
		}
	}
	if len(warnings) > 0 {
		sec := &section{open: "> [!WARNING]\n> **Risk flags**\n>\n", reopen: "> [!WARNING]\n> **Risk flags (continued)**\n>\n", close: "\n"}
		for _, f := range warnings {
			segs = append(segs, segment{sec: sec, text: fmt.Sprintf("> - **%s** %s%s — %s\n", esc(string(f.Kind)), code(f.ObjectID()), esc(f.Where()), esc(f.Message))})
		}
	}
	if len(images) > 0 {
		sec := &section{open: "**Image changes**\n\n", reopen: "**Image changes (continued)**\n\n", close: "\n"}
		for _, f := range images {
			segs = append(segs, segment{sec: sec, text: fmt.Sprintf("- %s%s %s: %s → %s\n", code(f.ObjectID()), esc(f.Where()),
				code(f.Field), code(diff.OrNone(f.Old)), code(diff.OrNone(f.New)))})
		}
	}
	return segs
}
