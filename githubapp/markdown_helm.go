package githubapp

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// helmSegments renders the HelmRelease sections of a Kustomization inside
// its block: a heading with the chart's old → new version and the counts,
// then an error, the values diff, the object changes and the hooks and
// tests left out of the diff.
func helmSegments(sec *section, k diff.KustomizationReport) []segment {
	var segs []segment
	for _, h := range k.HelmReleases {
		c := h.Counts
		head := fmt.Sprintf("#### ⎈ HelmRelease %s%s — %d created, %d configured, %d deleted\n\n",
			code(h.Namespace+"/"+h.Name), chartLabel(h), c.Created, c.Configured, c.Deleted)
		segs = append(segs, segment{sec: sec, text: head})
		if h.Error != "" {
			segs = append(segs, fencedSegment(sec, "> [!CAUTION]\n> This HelmRelease could not be rendered:\n\n", "", "text", h.Error))
			continue
		}
		if h.ValuesDiff != "" {
			segs = append(segs, fencedSegment(sec, "<b>values</b>\n\n", "<b>values</b> (continued)\n\n", "diff", h.ValuesDiff))
		}
		changes := slices.Clone(h.Changes)
		slices.SortStableFunc(changes, func(a, b diff.Change) int { return cmp.Compare(actionOrder[a.Action], actionOrder[b.Action]) })
		for _, ch := range changes {
			if ch.Action != diff.ActionUnchanged {
				segs = append(segs, changeSegment(sec, ch, ch.Diff))
			}
		}
		if hooks := append(slices.Clone(h.Hooks), h.Tests...); len(hooks) > 0 {
			segs = append(segs, segment{sec: sec, text: "Hooks and tests (not diffed): " + esc(strings.Join(hooks, ", ")) + "\n\n"})
		}
		for _, w := range h.Warnings {
			segs = append(segs, segment{sec: sec, text: "> [!WARNING]\n" + quote(w) + "\n\n"})
		}
	}
	return segs
}

// chartLabel is " (chart `podinfo` 6.9.1 → 6.9.2)", or "" before the chart
// is known.
func chartLabel(h diff.HelmReleaseReport) string {
	if h.Chart == "" {
		return ""
	}
	v := h.NewVersion
	switch {
	case h.OldVersion == "":
		v += ", new release"
	case h.OldVersion != h.NewVersion:
		v = h.OldVersion + " → " + h.NewVersion
	}
	return " (chart " + code(h.Chart) + " " + esc(v) + ")"
}

// helmErrorCount counts a HelmRelease's failures: its error, if any, and
// every failed object.
func helmErrorCount(h diff.HelmReleaseReport) int {
	n := h.Counts.Failed
	if h.Error != "" {
		n++
	}
	return n
}

// helmRank is the rank the HelmRelease sections of k give it.
func helmRank(k diff.KustomizationReport) int {
	r := rankNothing
	for _, h := range k.HelmReleases {
		switch {
		case h.Error != "" || h.Counts.Failed > 0:
			r = min(r, rankErrors)
		case h.Counts.Deleted > 0:
			r = min(r, rankDeletes)
		case h.Counts.Created+h.Counts.Configured > 0:
			r = min(r, rankChanges)
		case len(h.Warnings) > 0:
			r = min(r, rankNotes)
		}
	}
	return r
}
