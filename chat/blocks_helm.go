package chat

import (
	"slices"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// This file renders the HelmRelease sections of a Kustomization
// (diff.HelmReleaseReport), as the pull request comment nests them under
// the Kustomization: the chart's old → new version and the counts, then
// an error, the values diff (masked by the engine), the changed objects,
// the hooks and tests left out of the diff, and the warnings.

// helmHasContent reports whether h has something to show: an error, a
// warning, changed values, a changed object or a new chart version.
func helmHasContent(h diff.HelmReleaseReport) bool {
	if h.Error != "" || h.ValuesDiff != "" || len(h.Warnings) > 0 || h.OldVersion != h.NewVersion {
		return true
	}
	return slices.ContainsFunc(h.Changes, func(c diff.Change) bool { return c.Action != diff.ActionUnchanged })
}

// helmReleases adds the sections of k's HelmReleases that have something
// to show. An error, the values diff and each changed object are units of
// their own; headings, hooks and warnings are summary lines.
func (b *bodyBuilder) helmReleases(k diff.KustomizationReport) {
	for _, h := range k.HelmReleases {
		if !helmHasContent(h) {
			continue
		}
		b.lines([]string{helmHeading(h)})
		if h.Error != "" {
			b.units++
			b.code(":x: *could not be rendered*", h.Error, b.units)
			continue
		}
		if h.ValuesDiff != "" {
			b.units++
			b.code("*values changed* `"+esc(h.ID())+"`", h.ValuesDiff, b.units)
		}
		for _, ch := range orderedChanges(h.Changes) {
			b.units++
			b.change(ch, ch.Diff, nil, b.units)
		}
		var lines []string
		if hooks := append(slices.Clone(h.Hooks), h.Tests...); len(hooks) > 0 {
			lines = append(lines, "Hooks and tests (not diffed): "+esc(strings.Join(hooks, ", ")))
		}
		for _, w := range h.Warnings {
			lines = append(lines, ":warning: "+esc(w))
		}
		if len(lines) > 0 {
			b.lines(lines)
		}
	}
}

// helmHeading is "⎈ *HelmRelease `ns/name`* · chart `podinfo` 6.9.1 →
// 6.9.2 · 1 created, 2 configured".
func helmHeading(h diff.HelmReleaseReport) string {
	head := "⎈ *HelmRelease `" + esc(h.Namespace+"/"+h.Name) + "`*"
	if h.Chart != "" {
		v := h.NewVersion
		switch {
		case h.OldVersion == "":
			v += ", new release"
		case h.OldVersion != h.NewVersion:
			v = h.OldVersion + " → " + h.NewVersion
		}
		head += " · chart `" + esc(h.Chart) + "` " + esc(v)
	}
	if h.Error != "" {
		return head
	}
	return head + " · " + countsText(h.Counts)
}
