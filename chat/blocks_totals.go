package chat

import (
	"fmt"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// This file renders the totals that open a report message: the blast
// radius (diff.BlastRadius, the line that opens the pull request comment
// too), then what it does not count, then the changed objects by class.

// totalsText is the totals section: for a report that ran, the line
// "*Blast radius:* N clusters, M Kustomizations, X created, Y changed, Z
// deleted, K risk flags" (with a :warning: when K > 0), a line of failures,
// skipped objects, Kustomizations not diffed and HelmRelease counts, when
// any, and the class totals of a report classified against its base.
func totalsText(r *diff.Report) string {
	if r.Error != "" {
		return ":x: *The diff could not run:*"
	}
	if len(r.Kustomizations) == 0 {
		return "No Flux Kustomization is affected."
	}
	br := r.BlastRadius()
	line := "*Blast radius:* " + esc(br.String())
	if br.RiskFlags > 0 {
		line = ":warning: " + line
	}
	lines := []string{line}
	if extra := totalsExtra(r); len(extra) > 0 {
		lines = append(lines, strings.Join(extra, " · "))
	}
	if total, ok := r.ClassTotals(); ok {
		by := "Changed objects by class: " + total.String()
		if r.Base != "" {
			by += " — compared with the base branch at `" + esc(short(r.Base)) + "`"
		}
		lines = append(lines, by)
	}
	return strings.Join(lines, "\n")
}

// totalsExtra lists what the blast radius leaves out: "No changes" when
// nothing changes, failed and skipped objects, Kustomizations that could
// not be diffed, and the HelmReleases by how their objects change (the
// blast radius counts those objects in its totals, not the releases).
func totalsExtra(r *diff.Report) []string {
	var c, helm diff.Counts
	errs, releases, helmErrs := 0, 0, 0
	for _, k := range r.Kustomizations {
		c = addCounts(c, k.Counts)
		if k.Error != "" {
			errs++
		}
		for _, h := range k.HelmReleases {
			releases++
			helm = addCounts(helm, h.Counts)
			if h.Error != "" {
				helmErrs++
			}
		}
	}
	var out []string
	if !r.HasChanges() {
		out = append(out, "*No changes*")
	}
	for _, a := range []diff.Action{diff.ActionFailed, diff.ActionSkipped} {
		if n := c.Of(a); n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, a))
		}
	}
	if errs > 0 {
		out = append(out, fmt.Sprintf(":x: %d Kustomization%s could not be diffed", errs, plural(errs)))
	}
	if releases > 0 {
		out = append(out, helmCountsText(releases, helm, helmErrs))
	}
	return out
}

// helmCountsText is "⎈ 2 HelmReleases: 1 created, 3 configured", with the
// releases that could not be rendered.
func helmCountsText(releases int, c diff.Counts, errs int) string {
	s := fmt.Sprintf("⎈ %d HelmRelease%s: %s", releases, plural(releases), countsText(c))
	if errs > 0 {
		s += fmt.Sprintf(", :x: %d could not be rendered", errs)
	}
	return s
}

func addCounts(c, d diff.Counts) diff.Counts {
	c.Created += d.Created
	c.Configured += d.Configured
	c.Deleted += d.Deleted
	c.Unchanged += d.Unchanged
	c.Skipped += d.Skipped
	c.Failed += d.Failed
	return c
}

// countsText is "1 created, 2 configured" (actions that change or fail),
// or "no changes" (with skipped objects, if any).
func countsText(c diff.Counts) string {
	var parts []string
	for _, a := range []diff.Action{diff.ActionCreated, diff.ActionConfigured, diff.ActionDeleted, diff.ActionFailed, diff.ActionSkipped} {
		if n := c.Of(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if c.Created+c.Configured+c.Deleted+c.Failed == 0 {
		return strings.Join(append([]string{"no changes"}, parts...), ", ")
	}
	return strings.Join(parts, ", ")
}

// fallbackText is the plain notification text: the title, then the blast
// radius and the Kustomizations not diffed (or why there is no radius).
func fallbackText(r *diff.Report) string {
	text := headerTitle(r) + ": "
	switch {
	case r.Error != "":
		text += "the diff could not run"
	case len(r.Kustomizations) == 0:
		text += "no Flux Kustomization is affected"
	default:
		text += "blast radius " + r.BlastRadius().Short()
		errs := 0
		for _, k := range r.Kustomizations {
			if k.Error != "" {
				errs++
			}
		}
		if errs > 0 {
			text += fmt.Sprintf(" · %d Kustomization%s could not be diffed", errs, plural(errs))
		}
	}
	return ellipsize(text, 300)
}
