package diff

// The top of every rendering: the blast-radius line, then the risk flags
// and the image changes of the whole report (see Report.Risks).

// writeRiskText writes the blast-radius line, the risk flags and the image
// changes for a terminal, followed by a blank line.
func writeRiskText(tw *textWriter, r *Report) {
	tw.line("Blast radius: %s", r.BlastRadius())
	warnings, images := splitRisks(r.Risks())
	if len(warnings) > 0 {
		tw.line("Risk flags:")
		for _, f := range warnings {
			tw.line("  ! [%s] %s%s: %s", f.Kind, f.ObjectID(), f.Where(), f.Message)
		}
	}
	if len(images) > 0 {
		tw.line("Image changes:")
		for _, f := range images {
			tw.line("  • %s%s %s: %s", f.ObjectID(), f.Where(), f.Field, arrow(f.Old, f.New))
		}
	}
	tw.line("")
}

// writeRiskMarkdown writes the blast-radius line, the risk flags and the
// image changes as Markdown.
func writeRiskMarkdown(tw *textWriter, r *Report) {
	tw.line("**Blast radius:** %s", r.BlastRadius())
	tw.line("")
	warnings, images := splitRisks(r.Risks())
	if len(warnings) > 0 {
		tw.line("> [!WARNING]")
		tw.line("> **Risk flags**")
		tw.line(">")
		for _, f := range warnings {
			tw.line("> - **%s** <code>%s</code>%s — %s", f.Kind, htmlEscape(f.ObjectID()), htmlEscape(f.Where()), htmlEscape(f.Message))
		}
		tw.line("")
	}
	if len(images) > 0 {
		tw.line("**Image changes**")
		tw.line("")
		for _, f := range images {
			tw.line("- <code>%s</code>%s <code>%s</code>: <code>%s</code> → <code>%s</code>", htmlEscape(f.ObjectID()), htmlEscape(f.Where()),
				htmlEscape(f.Field), htmlEscape(OrNone(f.Old)), htmlEscape(OrNone(f.New)))
		}
		tw.line("")
	}
}

// splitRisks separates the risk flags from the image changes.
func splitRisks(all []ReportRisk) (warnings, images []ReportRisk) {
	for _, f := range all {
		if f.Warning() {
			warnings = append(warnings, f)
		} else {
			images = append(images, f)
		}
	}
	return warnings, images
}

// Where is " (cluster c, Kustomization ns/name)", the cluster left out when
// unnamed, with ", HelmRelease ns/name" for a flag on an object that
// HelmRelease renders: where a flag of a multi-cluster report comes from.
func (f ReportRisk) Where() string {
	var helm string
	if f.HelmRelease != "" {
		helm = ", HelmRelease " + f.HelmRelease
	}
	if f.Cluster == "" {
		return " (Kustomization " + f.Kustomization + helm + ")"
	}
	return " (cluster " + f.Cluster + ", Kustomization " + f.Kustomization + helm + ")"
}

// OrNone is s, or "(none)" when s is empty: an old or new value of a risk
// flag that does not exist (e.g. an image added).
func OrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
