package chat

import (
	"fmt"

	"github.com/fluxdiff/fluxdiff/diff"
)

// This file splits a report classified against the base branch
// (diff.Class) as the pull request comment does: each Kustomization shows
// the pull request's changes, and the drift of every Kustomization comes
// after all of them, under a heading that explains it, so a long report
// loses drift before it loses the pull request's own changes.

// hasPRContent reports whether k has a section among the pull request's
// changes: an error, a warning, a base error, a change that is not only
// drift (skipped objects included), or a HelmRelease with something to
// show.
func hasPRContent(k diff.KustomizationReport) bool {
	if k.Error != "" || k.BaseError != "" || len(k.Warnings) > 0 {
		return true
	}
	for _, c := range k.Changes {
		if c.Action != diff.ActionUnchanged && c.InPR() {
			return true
		}
	}
	for _, h := range k.HelmReleases {
		if helmHasContent(h) {
			return true
		}
	}
	return false
}

// prChanges adds k's objects that the pull request changes (the PR part
// of a pr+drift object), each with the kinds of its risk flags, after a
// note when the base could not be diffed.
func (b *bodyBuilder) prChanges(k diff.KustomizationReport) {
	if k.BaseError != "" {
		b.units++
		b.code(":information_source: *the base branch could not be diffed, so changes are not told apart from drift*", k.BaseError, b.units)
	}
	flags := flaggedObjects(k)
	for _, ch := range orderedChanges(k.Changes) {
		if ch.InPR() {
			b.units++
			b.change(ch, ch.PRPart(), flags[ch.ID()], b.units)
		}
	}
}

// drift adds, when any Kustomization has drift, a heading with
// diff.DriftExplanation, then per such Kustomization a line naming it and
// each drifted object's drift part.
func (b *bodyBuilder) drift(ks []diff.KustomizationReport) {
	explained := false
	for _, k := range ks {
		var drift []diff.Change
		for _, ch := range orderedChanges(k.Changes) {
			if ch.InDrift() {
				drift = append(drift, ch)
			}
		}
		if len(drift) == 0 {
			continue
		}
		var lines []string
		if !explained {
			lines = append(lines, "*Drift* (not caused by this change) — "+esc(diff.DriftExplanation))
			explained = true
		}
		head := "*Drift in Kustomization `" + esc(k.Namespace+"/"+k.Name) + "`*"
		if k.Cluster != "" {
			head += " on `" + esc(k.Where()) + "`"
		}
		lines = append(lines, head+fmt.Sprintf(" · %d drifted object%s", len(drift), plural(len(drift))))
		b.lines(lines)
		for _, ch := range drift {
			b.units++
			b.change(ch, ch.DriftPart(), nil, b.units)
		}
	}
}
