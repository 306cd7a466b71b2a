package diff

import "strings"

// helmTitle is "HelmRelease ns/name (chart podinfo 6.9.1 → 6.9.2)".
func helmTitle(h HelmReleaseReport) string {
	t := "HelmRelease " + h.Namespace + "/" + h.Name
	if h.Chart == "" {
		return t
	}
	return t + " (chart " + h.Chart + " " + h.Versions() + ")"
}

// writeHelmText renders the HelmRelease sections of k for a terminal,
// indented under the Kustomization.
func writeHelmText(tw *textWriter, k KustomizationReport) {
	for _, h := range k.HelmReleases {
		tw.line("  ⎈ %s", helmTitle(h))
		if h.Error != "" {
			tw.line("    ✗ %s", strings.ReplaceAll(h.Error, "\n", "\n      "))
			continue
		}
		if h.ValuesDiff != "" {
			tw.line("    values:")
			tw.line("%s", indent(h.ValuesDiff, "      "))
		}
		for _, c := range h.Changes {
			if c.Action == ActionUnchanged {
				continue
			}
			tw.line("    ► %s %s%s%s", c.ID(), c.Action, classSuffix(c), reasonSuffix(c))
			if c.Diff != "" {
				tw.line("%s", indent(c.Diff, "      "))
			}
		}
		for _, hk := range h.Hooks {
			tw.line("    hook (not diffed): %s", hk)
		}
		for _, t := range h.Tests {
			tw.line("    test (not diffed): %s", t)
		}
		for _, w := range h.Warnings {
			tw.line("    ! %s", w)
		}
		tw.line("    %s", countsLine(h.Counts))
	}
}

// writeHelmMarkdown renders the HelmRelease sections of k as Markdown
// under the Kustomization's section.
func writeHelmMarkdown(tw *textWriter, k KustomizationReport) {
	for _, h := range k.HelmReleases {
		tw.line("#### %s", htmlEscape(helmTitle(h)))
		tw.line("")
		if h.Error != "" {
			fence := CodeFence(h.Error)
			tw.line("> [!CAUTION]")
			tw.line("> This HelmRelease could not be rendered:")
			tw.line(">")
			tw.line("> %stext", fence)
			tw.line("> %s", strings.ReplaceAll(h.Error, "\n", "\n> "))
			tw.line("> %s", fence)
			tw.line("")
			continue
		}
		c := h.Counts
		tw.line("| created | configured | deleted | unchanged | skipped | failed |")
		tw.line("|--:|--:|--:|--:|--:|--:|")
		tw.line("| %d | %d | %d | %d | %d | %d |", c.Created, c.Configured, c.Deleted, c.Unchanged, c.Skipped, c.Failed)
		tw.line("")
		if h.ValuesDiff != "" {
			writeMarkdownChange(tw, Change{Action: "values", Kind: "HelmRelease", Namespace: h.Namespace, Name: h.Name, Diff: h.ValuesDiff}, h.ValuesDiff)
		}
		for _, ch := range h.Changes {
			if ch.Action != ActionUnchanged {
				writeMarkdownChange(tw, ch, ch.Diff)
			}
		}
		if n := len(h.Hooks) + len(h.Tests); n > 0 {
			tw.line("Not diffed: %s", htmlEscape(strings.Join(append(append([]string{}, h.Hooks...), h.Tests...), ", ")))
			tw.line("")
		}
		for _, w := range h.Warnings {
			tw.line("> [!WARNING]")
			tw.line("> %s", w)
			tw.line("")
		}
	}
}
