package diff

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown renders r as GitHub-flavoured Markdown: the blast radius
// and risk flags first, then per Kustomization a heading, a counts table and one collapsed ```diff block per changed
// object.
func WriteMarkdown(w io.Writer, r *Report) error {
	tw := &textWriter{w: w}
	writeRiskMarkdown(tw, r)
	for _, k := range r.Kustomizations {
		tw.line("### Kustomization `%s/%s`%s", k.Namespace, k.Name, mdCluster(k.Where()))
		tw.line("")
		tw.line("Path `%s`%s", k.Path, mdParent(k.Parent))
		tw.line("")
		if k.Error != "" {
			// The error may quote repository content: a code block keeps it
			// from being read as Markdown or HTML.
			fence := CodeFence(k.Error)
			tw.line("> [!CAUTION]")
			tw.line("> This Kustomization could not be diffed:")
			tw.line(">")
			tw.line("> %stext", fence)
			tw.line("> %s", strings.ReplaceAll(k.Error, "\n", "\n> "))
			tw.line("> %s", fence)
			tw.line("")
			continue
		}
		tw.line("| created | configured | deleted | unchanged | skipped | failed |")
		tw.line("|--:|--:|--:|--:|--:|--:|")
		c := k.Counts
		tw.line("| %d | %d | %d | %d | %d | %d |", c.Created, c.Configured, c.Deleted, c.Unchanged, c.Skipped, c.Failed)
		tw.line("")
		writeMarkdownChanges(tw, k)
		for _, wmsg := range k.Warnings {
			tw.line("> [!WARNING]")
			tw.line("> %s", wmsg)
			tw.line("")
		}
		writeHelmMarkdown(tw, k)
	}
	if len(r.Kustomizations) == 0 {
		tw.line("No Flux Kustomization is affected by this change.")
	}
	return tw.err
}

// writeMarkdownChange writes one object with text, its diff (all of it, or
// its part in the pull request's changes or in the drift section).
func writeMarkdownChange(tw *textWriter, ch Change, text string) {
	summary := fmt.Sprintf("<b>%s</b> <code>%s</code>", ch.Action, htmlEscape(ch.ID()))
	if ch.Class != "" {
		summary += " · " + string(ch.Class)
	}
	if ch.Reason != "" {
		summary += " — " + htmlEscape(ch.Reason)
	}
	if text == "" {
		tw.line("- %s", summary)
		tw.line("")
		return
	}
	fence := CodeFence(text)
	tw.line("<details><summary>%s</summary>", summary)
	tw.line("")
	if ch.Class == ClassPRAndDrift && len(ch.Fields) > 0 {
		tw.line("Fields: %s", fieldList(ch.Fields, true))
		tw.line("")
	}
	tw.line("%sdiff", fence)
	tw.line("%s", text)
	tw.line("%s", fence)
	tw.line("")
	tw.line("</details>")
	tw.line("")
}

func mdCluster(c string) string {
	if c == "" {
		return ""
	}
	return " on cluster `" + c + "`"
}

func mdParent(p string) string {
	if p == "" {
		return ""
	}
	return ", nested in `" + p + "`"
}

// CodeFence returns a Markdown code fence of backticks (at least three)
// longer than any run of backticks in s, so that content can never close
// the block early (CommonMark: a closing fence must be at least as long as
// the opening one).
func CodeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func htmlEscape(s string) string { return htmlReplacer.Replace(s) }
