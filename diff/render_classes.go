package diff

import (
	"fmt"
	"strings"
)

// This file renders the changes of a Kustomization grouped by class (see
// Class): the pull request's changes first, then drift in a section of its
// own. An unclassified Kustomization renders as before: every change in
// report order.

// writeMarkdownChanges writes k's changes: those of the pull request as
// collapsed diffs, then, when k was classified, the drift in one collapsed
// section that starts with DriftExplanation.
func writeMarkdownChanges(tw *textWriter, k KustomizationReport) {
	if k.BaseError != "" {
		fence := CodeFence(k.BaseError)
		tw.line("> [!NOTE]")
		tw.line("> The base branch could not be diffed for this Kustomization, so its changes are not told apart from drift:")
		tw.line(">")
		tw.line("> %stext", fence)
		tw.line("> %s", strings.ReplaceAll(k.BaseError, "\n", "\n> "))
		tw.line("> %s", fence)
		tw.line("")
	}
	if k.Classes != nil {
		tw.line("Changed objects by class: %s", k.Classes)
		tw.line("")
	}
	var drift []Change
	for _, ch := range k.Changes {
		if ch.Action == ActionUnchanged {
			continue
		}
		if ch.InDrift() {
			drift = append(drift, ch)
		}
		if ch.InPR() {
			writeMarkdownChange(tw, ch, ch.PRPart())
		}
	}
	if len(drift) == 0 {
		return
	}
	tw.line("<details><summary><b>Drift</b>: %s already differ%s in the cluster from the base branch</summary>",
		plural(len(drift), "object"), map[bool]string{true: "s", false: ""}[len(drift) == 1])
	tw.line("")
	tw.line("%s", DriftExplanation)
	tw.line("")
	for _, ch := range drift {
		writeMarkdownChange(tw, ch, ch.DriftPart())
	}
	tw.line("</details>")
	tw.line("")
}

// writeTextChanges writes k's changes for a terminal: the pull request's
// first, then, when k was classified, a "Drift:" block.
func writeTextChanges(tw *textWriter, k KustomizationReport) {
	if k.BaseError != "" {
		tw.line("! the base branch could not be diffed, so changes are not told apart from drift: %s", k.BaseError)
	}
	var drift []Change
	for _, c := range k.Changes {
		if c.Action == ActionUnchanged {
			continue
		}
		if c.InDrift() {
			drift = append(drift, c)
		}
		if c.InPR() {
			writeTextChange(tw, c, c.PRPart())
		}
	}
	if len(drift) == 0 {
		return
	}
	tw.line("Drift: %s", DriftExplanation)
	for _, c := range drift {
		writeTextChange(tw, c, c.DriftPart())
	}
}

func writeTextChange(tw *textWriter, c Change, text string) {
	tw.line("► %s %s%s%s", c.ID(), c.Action, classSuffix(c), reasonSuffix(c))
	if c.Class == ClassPRAndDrift && len(c.Fields) > 0 {
		tw.line("  fields: %s", fieldList(c.Fields, false))
	}
	if text != "" {
		tw.line("%s", indent(text, "  "))
	}
}

// classSuffix is " [class]", or "" for an unclassified change.
func classSuffix(c Change) string {
	if c.Class == "" {
		return ""
	}
	return " [" + string(c.Class) + "]"
}

// fieldList is "path (class), ..."; html escapes for Markdown.
func fieldList(fields []FieldChange, html bool) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		p := f.Path
		if html {
			p = "<code>" + htmlEscape(p) + "</code>"
		}
		parts[i] = fmt.Sprintf("%s (%s)", p, f.Class)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
