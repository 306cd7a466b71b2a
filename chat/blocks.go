package chat

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// Limits are the Slack message limits Render keeps to.
type Limits struct {
	// Blocks is the most blocks in one message: 50 (docs.slack.dev,
	// "Blocks": "You can include up to 50 blocks in each message").
	Blocks int
	// SectionText is the most characters of a section's text: 3,000
	// (docs.slack.dev, "Section block").
	SectionText int
	// TotalText bounds the characters of all texts of one message. Slack
	// refuses longer ones with msg_blocks_too_long; the limit is not
	// documented and was observed near 12,000-13,200 characters
	// (slackapi/bolt-js#2509), so the default is 11,000.
	TotalText int
}

// DefaultLimits are Slack's limits as of 2025.
var DefaultLimits = Limits{Blocks: 50, SectionText: 3000, TotalText: 11000}

func (l Limits) withDefaults() Limits {
	if l.Blocks <= 0 {
		l.Blocks = DefaultLimits.Blocks
	}
	if l.SectionText <= 0 {
		l.SectionText = DefaultLimits.SectionText
	}
	if l.TotalText <= 0 {
		l.TotalText = DefaultLimits.TotalText
	}
	return l
}

// Block and action IDs of a report message. Interactions are recognised by
// the action IDs; MarkApproved finds blocks by their IDs.
const (
	ActionPostToPR = "fluxdiff_post_to_pr"
	ActionApprove  = "fluxdiff_approve_pr"
	ActionViewPR   = "fluxdiff_view_pr"

	blockStatus  = "fluxdiff_status"
	blockActions = "fluxdiff_actions"
	blockOmitted = "fluxdiff_omitted"
)

// Message is a report to show in Slack.
type Message struct {
	// Report is the report; required.
	Report *diff.Report
	// ReportID is the stored report's ID, carried by the buttons; 0 leaves
	// the buttons out, as does a report without a pull request.
	ReportID int64
	// FileLink is the permalink of the uploaded full report, when one was
	// uploaded; FileName its name.
	FileLink string
	FileName string
	// Limits are Slack's limits; zero fields mean DefaultLimits.
	Limits Limits
}

// Rendered is a report as Block Kit.
type Rendered struct {
	// Blocks are the message blocks, within Limits.
	Blocks []slack.Block
	// Text is the plain notification text.
	Text string
	// OmittedObjects counts the changed objects (and Kustomization errors,
	// HelmRelease errors and values diffs) whose text is not wholly in
	// Blocks; OmittedOther is set when summary lines, notes, risk flags or
	// image changes are left out. Either means the full report must be
	// uploaded and linked (Message.FileLink): the message says so, but only
	// the file holds everything.
	OmittedObjects int
	OmittedOther   bool
}

// NeedsFile reports whether part of the report is not in the blocks.
func (r Rendered) NeedsFile() bool { return r.OmittedObjects > 0 || r.OmittedOther }

// Render draws m as Block Kit within m.Limits, with the facts the pull
// request comment shows: a header, the pull request facts, the totals
// opened by the blast radius, the risk flags and image changes (each list
// cut with "…and N more" when long), then as much of the body as fits, in
// this order: report error, notes, one line per Kustomization, then per
// Kustomization the pull request's changes (each changed object's diff in
// code blocks split at 3,000 characters, a flagged object's title marked
// with :warning: and its risk kinds) and its HelmReleases (chart
// versions, values diff, objects, hooks and tests), and last the drift of
// every Kustomization. What does not fit is counted, announced in the
// message and linked through m.FileLink; last come a status line and the
// buttons Post diff to PR, Approve PR (with a confirm dialog) and View PR.
// Secret values are whatever the report holds: the engine masks them,
// Render adds nothing but the report.
func Render(m Message) Rendered {
	lim := m.Limits.withDefaults()
	head, headOmitted := headBlocks(m.Report, lim)
	tail := tailBlocks(m)
	left := budget{
		blocks: lim.Blocks - len(head) - len(tail) - 1, // one for the omission note
		text:   lim.TotalText - blocksText(head) - blocksText(tail) - omissionReserve,
	}
	out := Rendered{Text: fallbackText(m.Report), OmittedOther: headOmitted}
	body := make([]slack.Block, 0, left.blocks)
	omitted := map[int]bool{}
	full := false
	for _, p := range bodyPieces(m.Report, lim.SectionText) {
		if !full && left.take(p.block) {
			body = append(body, p.block)
			continue
		}
		full = true
		switch {
		case p.unit < 0:
			out.OmittedOther = true
		case !omitted[p.unit]:
			omitted[p.unit] = true
			out.OmittedObjects++
		}
	}
	out.Blocks = append(append([]slack.Block{}, head...), body...)
	if out.NeedsFile() {
		out.Blocks = append(out.Blocks, omissionBlock(m, out))
	}
	out.Blocks = append(out.Blocks, tail...)
	return out
}

// omissionReserve is the text kept for the omission note.
const omissionReserve = 600

type budget struct{ blocks, text int }

// take reports whether b fits and, if so, counts it.
func (l *budget) take(b slack.Block) bool {
	n := blockText(b)
	if l.blocks < 1 || n > l.text {
		return false
	}
	l.blocks--
	l.text -= n
	return true
}

// headBlocks are the blocks every message starts with: the header, the
// pull request facts, the totals with the blast radius, then the risk
// flags (at most a quarter of the message's text, and of a section) and
// the image changes (half that); omitted is true when a list was cut.
func headBlocks(r *diff.Report, lim Limits) (blocks []slack.Block, omitted bool) {
	blocks = []slack.Block{
		slack.NewHeaderBlock(plain(ellipsize(headerTitle(r), 150)), slack.HeaderBlockOptionBlockID("fluxdiff_header")),
	}
	if fields := factFields(r); len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("fluxdiff_facts")))
	}
	blocks = append(blocks, section("fluxdiff_totals", totalsText(r)))
	risks, omitted := riskBlocks(r, min(lim.SectionText, lim.TotalText/4))
	return append(blocks, risks...), omitted
}

func headerTitle(r *diff.Report) string {
	pr := r.PullRequest
	switch {
	case pr == nil:
		return "fluxdiff · drift check"
	case pr.Number > 0:
		return fmt.Sprintf("fluxdiff · %s #%d", pr.Repo, pr.Number)
	case pr.BaseRef != "":
		return fmt.Sprintf("fluxdiff · %s @ %s", pr.Repo, pr.BaseRef)
	}
	return "fluxdiff · " + pr.Repo
}

func factFields(r *diff.Report) []*slack.TextBlockObject {
	var f []*slack.TextBlockObject
	if pr := r.PullRequest; pr != nil {
		if pr.Number > 0 {
			title := fmt.Sprintf("#%d %s", pr.Number, ellipsize(pr.Title, 200))
			if pr.URL != "" {
				f = append(f, mrkdwn(fmt.Sprintf("*Pull request*\n<%s|%s>", esc(pr.URL), esc(title))))
			} else {
				f = append(f, mrkdwn("*Pull request*\n"+esc(title)))
			}
			if pr.Author != "" {
				f = append(f, mrkdwn("*Author*\n"+esc(pr.Author)))
			}
		} else if pr.BaseRef != "" {
			f = append(f, mrkdwn("*Branch*\n`"+esc(pr.BaseRef)+"`"))
		}
		if commit := commitLine(pr); commit != "" {
			f = append(f, mrkdwn("*Commit*\n"+commit))
		}
	}
	if len(r.Clusters) > 0 {
		f = append(f, mrkdwn("*Clusters*\n"+esc(ellipsize(strings.Join(r.Clusters, ", "), 1000))))
	}
	return f
}

func commitLine(pr *diff.PullRequestInfo) string {
	var parts []string
	if pr.HeadSHA != "" {
		parts = append(parts, "`"+esc(short(pr.HeadSHA))+"`")
	}
	if pr.MergeSHA != "" && pr.MergeSHA != pr.HeadSHA {
		parts = append(parts, "merged as `"+esc(short(pr.MergeSHA))+"`")
	}
	return strings.Join(parts, " ")
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func omissionBlock(m Message, r Rendered) slack.Block {
	var what []string
	if r.OmittedObjects > 0 {
		what = append(what, fmt.Sprintf("%d changed object%s or error%s (in whole or in part)", r.OmittedObjects, plural(r.OmittedObjects), plural(r.OmittedObjects)))
	}
	if r.OmittedOther {
		what = append(what, "some summary lines, notes or risk flags")
	}
	text := ":page_facing_up: *This report is too long for one Slack message:* " + strings.Join(what, " and ") + " are not shown here."
	if m.FileLink != "" {
		name := m.FileName
		if name == "" {
			name = "full report"
		}
		text += fmt.Sprintf("\nThe full report: <%s|%s>", esc(m.FileLink), esc(ellipsize(name, 100)))
	} else {
		text += "\nThe full report is attached in this message's thread."
	}
	return section(blockOmitted, text)
}
