package chat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// This file renders the risk flags and image changes of a report
// (diff.Report.Risks) as they open the pull request comment: the flags
// under a warning, each with its kind, object and where it was found
// (diff.ReportRisk.Where), then the image changes, which are listed but
// not counted as flags.

// Block IDs of the risk sections.
const (
	blockRisks  = "fluxdiff_risks"
	blockImages = "fluxdiff_images"
)

// Lengths, in characters, of the parts of one flag's line: a flag's
// message is one line in the engine, an image reference short; these
// bound what a single odd flag can take from the others.
const (
	maxRiskMessage = 400
	maxImageValue  = 200
)

// riskBlocks returns the risk flags section and the image changes
// section of r, each present only when it has an entry. A section holds
// as many entries as fit in maxChars characters and ends with "…and N
// more" for the rest; omitted is true when an entry was left out, for the
// message to link the full report.
func riskBlocks(r *diff.Report, maxChars int) (blocks []slack.Block, omitted bool) {
	if r.Error != "" {
		return nil, false
	}
	var flags, images []string
	for _, f := range r.Risks() {
		if f.Warning() {
			flags = append(flags, riskLine(f))
		} else {
			images = append(images, imageLine(f))
		}
	}
	if len(flags) > 0 {
		title := fmt.Sprintf(":warning: *%d risk flag%s* — look at these first", len(flags), plural(len(flags)))
		text, left := cappedList(title, flags, maxChars, "risk flag")
		blocks = append(blocks, section(blockRisks, text))
		omitted = left > 0
	}
	if len(images) > 0 {
		title := fmt.Sprintf("*Image changes* (%d, not counted as risks)", len(images))
		text, left := cappedList(title, images, maxChars/2, "image change")
		blocks = append(blocks, section(blockImages, text))
		omitted = omitted || left > 0
	}
	return blocks, omitted
}

// riskLine is "• :warning: *kind* `Kind/ns/name` (cluster c, Kustomization
// ns/name) — message".
func riskLine(f diff.ReportRisk) string {
	return fmt.Sprintf("• :warning: *%s* `%s`%s — %s", esc(string(f.Kind)), esc(f.ObjectID()), esc(f.Where()),
		esc(ellipsize(f.Message, maxRiskMessage)))
}

// imageLine is "• `Kind/ns/name` (where) `field`: `old` → `new`".
func imageLine(f diff.ReportRisk) string {
	return fmt.Sprintf("• `%s`%s `%s`: `%s` → `%s`", esc(f.ObjectID()), esc(f.Where()), esc(f.Field),
		esc(ellipsize(diff.OrNone(f.Old), maxImageValue)), esc(ellipsize(diff.OrNone(f.New), maxImageValue)))
}

// cappedList joins title and as many whole lines as fit in maxChars; when
// some do not, a last line "…and N more <what>s, in the full report" says
// how many, and left is N.
func cappedList(title string, lines []string, maxChars int, what string) (text string, left int) {
	more := func(n int) string {
		return fmt.Sprintf("…and %d more %s%s, in the full report", n, what, plural(n))
	}
	out := []string{title}
	n := textLen(title)
	for i, l := range lines {
		reserve := 0
		if i < len(lines)-1 {
			reserve = 1 + textLen(more(len(lines)-i-1))
		}
		if n+1+textLen(l)+reserve > maxChars {
			left = len(lines) - i
			out = append(out, more(left))
			break
		}
		out = append(out, l)
		n += 1 + textLen(l)
	}
	return strings.Join(out, "\n"), left
}

// riskCount is the number of risk flags (not image changes) of k.
func riskCount(k diff.KustomizationReport) int {
	n := 0
	for _, f := range k.Risks {
		if f.Warning() {
			n++
		}
	}
	return n
}

// flaggedObjects maps the ID (diff.Change.ID) of each object of k with risk
// flags to their kinds, in k's order, each kind once.
func flaggedObjects(k diff.KustomizationReport) map[string][]diff.RiskKind {
	out := map[string][]diff.RiskKind{}
	for _, f := range k.Risks {
		if id := f.ObjectID(); f.Warning() && !slices.Contains(out[id], f.Kind) {
			out[id] = append(out[id], f.Kind)
		}
	}
	return out
}
