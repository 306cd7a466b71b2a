package chat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// piece is one body block; unit numbers the object (or error) it belongs
// to, -1 for summary lines, notes and headings.
type piece struct {
	block slack.Block
	unit  int
}

// bodyBuilder numbers blocks and units as pieces are made.
type bodyBuilder struct {
	max    int // section text limit
	blocks int
	units  int
	pieces []piece
}

func (b *bodyBuilder) id() string {
	b.blocks++
	return fmt.Sprintf("fluxdiff_b%d", b.blocks)
}

func (b *bodyBuilder) add(text string, unit int) {
	b.pieces = append(b.pieces, piece{block: section(b.id(), text), unit: unit})
}

// bodyPieces lays out the body of a report message, in display order: the
// report error, notes, one summary line per Kustomization, then per
// Kustomization with something from the pull request a heading, its
// objects (failed and deleted first) and its HelmReleases, and last the
// drift of every Kustomization, each section at most max characters.
func bodyPieces(r *diff.Report, max int) []piece {
	b := &bodyBuilder{max: max}
	if r.Error != "" {
		b.units++
		b.code("*Reason*", r.Error, b.units)
	}
	for _, n := range r.Notes {
		b.lines([]string{":information_source: " + esc(n)})
	}
	if len(r.Kustomizations) > 0 {
		lines := []string{"*Kustomizations*"}
		for _, k := range r.Kustomizations {
			lines = append(lines, summaryLine(k))
		}
		b.lines(lines)
	}
	for _, k := range r.Kustomizations {
		if !hasPRContent(k) {
			continue
		}
		b.lines(kustomizationHeading(k))
		if k.Error != "" {
			b.units++
			b.code(":x: *could not be diffed*", k.Error, b.units)
		}
		b.prChanges(k)
		b.helmReleases(k)
	}
	b.drift(r.Kustomizations)
	return b.pieces
}

// lines groups escaped lines into sections of at most max characters; a
// line longer than that is split.
func (b *bodyBuilder) lines(lines []string) {
	var cur []string
	n := 0
	for _, l := range lines {
		for _, part := range splitLine(l, b.max) {
			if len(cur) > 0 && n+1+textLen(part) > b.max {
				b.add(strings.Join(cur, "\n"), -1)
				cur, n = nil, 0
			}
			if len(cur) > 0 {
				n++
			}
			cur = append(cur, part)
			n += textLen(part)
		}
	}
	if len(cur) > 0 {
		b.add(strings.Join(cur, "\n"), -1)
	}
}

// code adds raw text in code blocks under title (mrkdwn), split into as
// many sections as it needs; each part after the first says which it is.
func (b *bodyBuilder) code(title, raw string, unit int) {
	partLabel := " (part 999/999)"
	room := b.max - textLen(title) - textLen(partLabel) - 1 - codeOverhead
	chunks := codeChunks(raw, max(room, 100))
	for i, c := range chunks {
		label := title
		if len(chunks) > 1 {
			label += fmt.Sprintf(" (part %d/%d)", i+1, len(chunks))
		}
		b.add(label+"\n"+codeBlock(c), unit)
	}
}

// maxInlineReason is the longest reason shown on an object's title line;
// a longer one goes into its code block.
const maxInlineReason = 300

// change adds one object: its action, ID and class, the risk kinds it is
// flagged with (flags, after a :warning:), its reason, and content in a
// code block.
func (b *bodyBuilder) change(ch diff.Change, content string, flags []diff.RiskKind, unit int) {
	title := fmt.Sprintf("*%s* `%s`", ch.Action, esc(ch.ID()))
	if ch.Class != "" {
		title += " · " + string(ch.Class)
	}
	if len(flags) > 0 {
		kinds := make([]string, len(flags))
		for i, f := range flags {
			kinds[i] = esc(string(f))
		}
		title += " · :warning: *" + strings.Join(kinds, ", ") + "*"
	}
	if r := ch.Reason; r != "" {
		if textLen(r) <= maxInlineReason && !strings.Contains(r, "\n") {
			title += " — " + esc(r)
		} else {
			content = strings.TrimRight("reason: "+r+"\n"+content, "\n")
		}
	}
	if content == "" {
		b.add(title, unit)
		return
	}
	b.code(title, content, unit)
}

func summaryLine(k diff.KustomizationReport) string {
	line := "• `" + esc(k.Namespace+"/"+k.Name) + "`"
	if k.Parent != "" {
		line = "    ↳ `" + esc(k.Namespace+"/"+k.Name) + "`"
	}
	if k.Cluster != "" {
		line += " on `" + esc(k.Where()) + "`"
	}
	if k.Error != "" {
		line += ": :x: could not be diffed"
	} else {
		line += ": " + countsText(k.Counts)
		if k.Classes != nil {
			line += " (" + k.Classes.String() + ")"
		}
	}
	if len(k.HelmReleases) > 0 {
		var c diff.Counts
		errs := 0
		for _, h := range k.HelmReleases {
			c = addCounts(c, h.Counts)
			if h.Error != "" {
				errs++
			}
		}
		line += " · " + helmCountsText(len(k.HelmReleases), c, errs)
	}
	if n := riskCount(k); n > 0 {
		line += fmt.Sprintf(" · :warning: %d risk flag%s", n, plural(n))
	}
	return line
}

func kustomizationHeading(k diff.KustomizationReport) []string {
	head := "*Kustomization `" + esc(k.Namespace+"/"+k.Name) + "`*"
	if k.Cluster != "" {
		head += " on `" + esc(k.Where()) + "`"
	}
	head += " · path `" + esc(k.Path) + "`"
	if k.Parent != "" {
		head += " · nested in `" + esc(k.Parent) + "`"
	}
	lines := []string{head}
	for _, w := range k.Warnings {
		lines = append(lines, ":warning: "+esc(w))
	}
	return lines
}

// orderedChanges returns the changes to show: failed first, then deleted,
// then the others in report order; unchanged objects are left out.
func orderedChanges(in []diff.Change) []diff.Change {
	rank := func(a diff.Action) int {
		switch a {
		case diff.ActionFailed:
			return 0
		case diff.ActionDeleted:
			return 1
		case diff.ActionSkipped:
			return 3
		}
		return 2
	}
	out := slices.DeleteFunc(slices.Clone(in), func(c diff.Change) bool { return c.Action == diff.ActionUnchanged })
	slices.SortStableFunc(out, func(a, b diff.Change) int { return rank(a.Action) - rank(b.Action) })
	return out
}
