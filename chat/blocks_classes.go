package chat

import "github.com/fluxdiff/fluxdiff/diff"

// changes adds k's objects: the pull request's changes first (the PR part
// of a pr+drift object), then, when k was classified against the base
// branch, a drift heading with diff.DriftExplanation and each drifted
// object's drift part. A base that could not be diffed is said first.
func (b *bodyBuilder) changes(k diff.KustomizationReport) {
	if k.BaseError != "" {
		b.units++
		b.code(":information_source: *the base branch could not be diffed, so changes are not told apart from drift*", k.BaseError, b.units)
	}
	var drift []diff.Change
	for _, ch := range orderedChanges(k.Changes) {
		if ch.InDrift() {
			drift = append(drift, ch)
		}
		if ch.InPR() {
			b.units++
			b.change(ch, ch.PRPart(), b.units)
		}
	}
	if len(drift) == 0 {
		return
	}
	b.lines([]string{"*Drift* — " + esc(diff.DriftExplanation)})
	for _, ch := range drift {
		b.units++
		b.change(ch, ch.DriftPart(), b.units)
	}
}
