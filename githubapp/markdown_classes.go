package githubapp

import (
	"fmt"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// This file renders the classes of a report made against the base branch
// (diff.Class): the per-class counts under the counts table and in the
// check run title, and drift in a collapsed section of its own per
// Kustomization, after every Kustomization's pull request changes.

// classSegments is the line of per-class counts of the whole report, or
// nothing when no Kustomization was classified.
func classSegments(rep *diff.Report) []segment {
	total, ok := rep.ClassTotals()
	if !ok {
		return nil
	}
	line := fmt.Sprintf("**Changed objects by class:** %d from this pull request (`pr`), %d changed by it on top of drift (`pr+drift`), %d drift already in the cluster (`drift`)",
		total.PR, total.PRAndDrift, total.Drift)
	if rep.Base != "" {
		line += " — compared with the base branch at " + code(shortSHA(rep.Base))
	}
	return []segment{textSegment(line + ".\n\n")}
}

// classTitle is the check run title's addition, the changed objects by
// class: " (2 pr, 1 pr+drift, 1 drift)", or "" when nothing was
// classified or nothing changed.
func classTitle(rep *diff.Report) string {
	total, ok := rep.ClassTotals()
	if !ok || rep.Error != "" || total == (diff.ClassCounts{}) {
		return ""
	}
	return " (" + total.String() + ")"
}

// hasPRContent reports whether k's block among the pull request's changes
// has anything to show: it is unclassified, or has an error, a warning, a
// base error, or a change that is not only drift.
func hasPRContent(k diff.KustomizationReport) bool {
	if k.Classes == nil || k.Error != "" || k.BaseError != "" || len(k.Warnings) > 0 {
		return true
	}
	for _, c := range k.Changes {
		if c.Action != diff.ActionUnchanged && c.InPR() {
			return true
		}
	}
	return false
}

// driftSegments renders, per Kustomization with drift, a collapsed section
// that opens with diff.DriftExplanation and holds each drifted object's
// drift part.
func driftSegments(ks []diff.KustomizationReport) []segment {
	var segs []segment
	for _, k := range ks {
		var drift []diff.Change
		for _, c := range k.Changes {
			if c.Action != diff.ActionUnchanged && c.InDrift() {
				drift = append(drift, c)
			}
		}
		if len(drift) == 0 {
			continue
		}
		name := "Kustomization " + code(k.Namespace+"/"+k.Name)
		if k.Cluster != "" {
			name = "<b>" + esc(k.Cluster) + "</b> · " + name
		}
		sec := &section{
			open: fmt.Sprintf("<details><summary>%s — drift: %s already in the cluster</summary>\n\n%s\n\n",
				name, plural(len(drift), "object"), esc(diff.DriftExplanation)),
			reopen: fmt.Sprintf("<details><summary>%s — drift (continued)</summary>\n\n", name),
			close:  "</details>\n\n",
		}
		for _, c := range drift {
			segs = append(segs, changeSegment(sec, c, c.DriftPart()))
		}
	}
	return segs
}

// fieldsLine lists the fields of a pr+drift object with their classes.
func fieldsLine(c diff.Change) string {
	if c.Class != diff.ClassPRAndDrift || len(c.Fields) == 0 {
		return ""
	}
	parts := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		parts[i] = code(f.Path) + " (" + string(f.Class) + ")"
	}
	return "Fields: " + strings.Join(parts, ", ") + "\n\n"
}
