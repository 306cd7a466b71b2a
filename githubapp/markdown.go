package githubapp

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// CommentLimit is GitHub's limit on an issue comment body (65,536
// characters; longer bodies are rejected with 422). Parts are measured in
// bytes, which are never fewer than characters, so every part fits.
const CommentLimit = 65536

// NoKustomizationText is what a comment says when the pull request
// affects no Flux Kustomization.
const NoKustomizationText = "No Flux Kustomization is affected by this change."

// RenderOptions tunes RenderComment.
type RenderOptions struct {
	// Summary renders the counts table without the diffs (comment mode
	// "summary").
	Summary bool
	// CheckRunName names the check run that holds the diffs in summary
	// mode ("fluxdiff" when empty).
	CheckRunName string
	// Limit is the largest part, in bytes (CommentLimit when 0).
	Limit int
}

// RenderComment renders rep as the Markdown of the sticky pull request
// comment, split into parts of at most opts.Limit bytes (CommentLimit by
// default) at object boundaries. Every part starts with the hidden marker
// "<!-- fluxdiff:sticky owner/name#N part=i/N -->" (see StickyMarker) and
// the heading; a <details> block or a code fence cut by a part boundary
// is closed at the end of the part and re-opened at the start of the next
// one, and an object's diff longer than a part is split between lines.
// Nothing is dropped. rep.PullRequest must be set.
func RenderComment(rep *diff.Report, opts RenderOptions) []string {
	pr := rep.PullRequest
	if pr == nil {
		pr = &diff.PullRequestInfo{}
	}
	segs := reportPreamble(rep)
	segs = append(segs, countsSegments(rep)...)
	segs = append(segs, classSegments(rep)...)
	if opts.Summary {
		if len(rep.Kustomizations) > 0 {
			name := cmp.Or(opts.CheckRunName, "fluxdiff")
			segs = append(segs, textSegment(fmt.Sprintf("The diffs are in the <b>%s</b> check run.\n\n", esc(name))))
		}
	} else {
		segs = append(segs, kustomizationSegments(rep)...)
	}
	l := layout{
		limit:  cmp.Or(opts.Limit, CommentLimit),
		header: func(i, n int) string { return commentHeader(rep, pr, i, n) },
		footer: func(i, n int) string {
			return fmt.Sprintf("\n---\n<sub>Part %d of %d; the diff continues in the next comment.</sub>\n", i, n)
		},
	}
	return l.pack(segs)
}

// StickyMarker returns the hidden first line of part i of n of the
// comment on pull request number of repo ("owner/name").
func StickyMarker(repo string, number, i, n int) string {
	return fmt.Sprintf("<!-- fluxdiff:sticky %s#%d part=%d/%d -->", repo, number, i, n)
}

// commentHeader is the marker and heading of part i of n.
func commentHeader(rep *diff.Report, pr *diff.PullRequestInfo, i, n int) string {
	var b strings.Builder
	b.WriteString(StickyMarker(pr.Repo, pr.Number, i, n) + "\n")
	title := esc(fmt.Sprintf("%s#%d", pr.Repo, pr.Number))
	if pr.URL != "" {
		title = fmt.Sprintf("[%s](%s)", title, pr.URL)
	}
	b.WriteString("### Flux diff of " + title)
	if n > 1 {
		fmt.Fprintf(&b, " (part %d of %d)", i, n)
	}
	b.WriteString("\n\n" + provenance(rep, pr) + "\n\n")
	return b.String()
}

// provenance is the line that says what was built: commits, base branch,
// clusters, who asked.
func provenance(rep *diff.Report, pr *diff.PullRequestInfo) string {
	var facts []string
	if pr.MergeSHA != "" {
		facts = append(facts, "merge commit "+code(shortSHA(pr.MergeSHA)))
	}
	if pr.HeadSHA != "" {
		facts = append(facts, "head "+code(shortSHA(pr.HeadSHA)))
	}
	if pr.BaseRef != "" {
		facts = append(facts, "into "+code(pr.BaseRef))
	}
	if len(rep.Clusters) > 0 {
		cs := make([]string, len(rep.Clusters))
		for i, c := range rep.Clusters {
			cs[i] = code(c)
		}
		facts = append(facts, "clusters "+strings.Join(cs, ", "))
	}
	if pr.RequestedBy != "" {
		// No @: a mention would notify the person on every update.
		facts = append(facts, "requested by "+code(pr.RequestedBy))
	}
	if len(facts) == 0 {
		return ""
	}
	s := strings.Join(facts, " · ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// reportPreamble renders the report-wide error, or the blast radius and
// risk flags (riskSegments); then the notes and the "nothing affected"
// line.
func reportPreamble(rep *diff.Report) []segment {
	var segs []segment
	if rep.Error != "" {
		segs = append(segs, fencedSegment(nil,
			"> [!CAUTION]\n> **The pull request could not be diffed.**\n\n", "", "text", rep.Error))
	}
	if rep.Error == "" && len(rep.Kustomizations) > 0 {
		segs = append(segs, riskSegments(rep)...)
	}
	for _, n := range rep.Notes {
		segs = append(segs, textSegment("> [!NOTE]\n"+quote(n)+"\n\n"))
	}
	if rep.Error == "" && len(rep.Kustomizations) == 0 {
		segs = append(segs, textSegment(NoKustomizationText+"\n\n"))
	}
	return segs
}

// countsSegments renders the counts table, one segment per row so that a
// long table splits between rows with its header repeated: a row per
// Kustomization, each followed by a row per HelmRelease it applies and that
// was rendered (the objects helm-controller would change), and a total of
// all rows when there is more than one.
func countsSegments(rep *diff.Report) []segment {
	if len(rep.Kustomizations) == 0 {
		return nil
	}
	table := &section{
		open:  "| Cluster | Kustomization | Created | Configured | Deleted | Errors |\n|---|---|--:|--:|--:|--:|\n",
		close: "\n",
	}
	table.reopen = table.open
	var segs []segment
	var total diff.Counts
	var totalErrs, rows, helms int
	addRow := func(cluster, name string, c diff.Counts, errs int) {
		total.Created += c.Created
		total.Configured += c.Configured
		total.Deleted += c.Deleted
		totalErrs += errs
		rows++
		row := fmt.Sprintf("| %s | %s | %d | %d | %d | %s |\n", cluster, name, c.Created, c.Configured, c.Deleted, errorCell(errs))
		segs = append(segs, segment{sec: table, text: row})
	}
	for _, k := range rep.Kustomizations {
		cluster := cmp.Or(code(k.Where()), "—")
		addRow(cluster, code(k.Namespace+"/"+k.Name), k.Counts, errorCount(k))
		for _, h := range k.HelmReleases {
			helms++
			addRow(cluster, "↳ ⎈ HelmRelease "+code(h.Namespace+"/"+h.Name), h.Counts, helmErrorCount(h))
		}
	}
	if rows > 1 {
		what := plural(len(rep.Kustomizations), "Kustomization")
		if helms > 0 {
			what += ", " + plural(helms, "HelmRelease")
		}
		row := fmt.Sprintf("| **Total** | %s | %d | %d | %d | %s |\n", what,
			total.Created, total.Configured, total.Deleted, errorCell(totalErrs))
		segs = append(segs, segment{sec: table, text: row})
	}
	return segs
}

// errorCount counts a Kustomization's failures: its own error, if any,
// and every failed object.
func errorCount(k diff.KustomizationReport) int {
	n := k.Counts.Failed
	if k.Error != "" {
		n++
	}
	return n
}

func errorCell(n int) string {
	if n == 0 {
		return "0"
	}
	return "**" + strconv.Itoa(n) + "**"
}

// kustomizationSegments renders one <details> block per Kustomization that
// has something to show; those with errors come first, then those that
// delete, then the rest, each in report order.
func kustomizationSegments(rep *diff.Report) []segment {
	ks := slices.Clone(rep.Kustomizations)
	slices.SortStableFunc(ks, func(a, b diff.KustomizationReport) int { return cmp.Compare(rank(a), rank(b)) })
	var segs []segment
	for _, k := range ks {
		if rank(k) == rankNothing || !hasPRContent(k) {
			continue
		}
		segs = append(segs, kustomizationBlock(k)...)
	}
	return append(segs, driftSegments(ks)...)
}

const (
	rankErrors = iota
	rankDeletes
	rankChanges
	rankNotes
	rankNothing
)

func rank(k diff.KustomizationReport) int {
	return min(kustomizationRank(k), helmRank(k))
}

func kustomizationRank(k diff.KustomizationReport) int {
	switch {
	case errorCount(k) > 0:
		return rankErrors
	case k.Counts.Deleted > 0:
		return rankDeletes
	case k.Counts.Created+k.Counts.Configured > 0:
		return rankChanges
	case len(k.Warnings) > 0 || k.Counts.Skipped > 0:
		return rankNotes
	}
	return rankNothing
}

// actionOrder puts failures and deletions first within a Kustomization.
var actionOrder = map[diff.Action]int{
	diff.ActionFailed: 0, diff.ActionDeleted: 1, diff.ActionCreated: 2,
	diff.ActionConfigured: 3, diff.ActionSkipped: 4, diff.ActionUnchanged: 5,
}

// kustomizationBlock renders one Kustomization as a <details> section.
func kustomizationBlock(k diff.KustomizationReport) []segment {
	c := k.Counts
	name := "Kustomization " + code(k.Namespace+"/"+k.Name)
	if k.Cluster != "" {
		name = "<b>" + esc(k.Where()) + "</b> · " + name
	}
	counts := fmt.Sprintf("%d created, %d configured, %d deleted", c.Created, c.Configured, c.Deleted)
	if n := errorCount(k); n > 0 {
		counts += fmt.Sprintf(", %d failed", n)
	}
	if k.Classes != nil {
		counts += " (" + k.Classes.String() + ")"
	}
	where := "Path " + code(k.Path)
	if k.Parent != "" {
		where += ", nested in " + code(k.Parent)
	}
	sec := &section{
		open:   fmt.Sprintf("<details><summary>%s — %s</summary>\n\n%s\n\n", name, counts, where),
		reopen: fmt.Sprintf("<details><summary>%s (continued)</summary>\n\n", name),
		close:  "</details>\n\n",
	}
	var segs []segment
	if k.Error != "" {
		segs = append(segs, fencedSegment(sec, "> [!CAUTION]\n> This Kustomization could not be diffed:\n\n", "", "text", k.Error))
	}
	for _, w := range k.Warnings {
		segs = append(segs, segment{sec: sec, text: "> [!WARNING]\n" + quote(w) + "\n\n"})
	}
	changes := slices.Clone(k.Changes)
	slices.SortStableFunc(changes, func(a, b diff.Change) int { return cmp.Compare(actionOrder[a.Action], actionOrder[b.Action]) })
	if k.BaseError != "" {
		segs = append(segs, fencedSegment(sec, "> [!NOTE]\n> The base branch could not be diffed here, so these changes are not told apart from drift:\n\n", "", "text", k.BaseError))
	}
	for _, ch := range changes {
		if ch.Action == diff.ActionUnchanged || !ch.InPR() {
			continue
		}
		segs = append(segs, changeSegment(sec, ch, ch.PRPart()))
	}
	return append(segs, helmSegments(sec, k)...)
}

// changeSegment renders one object: a line naming it and text, its diff
// (or the part of it shown in the pull request's or the drift section).
func changeSegment(sec *section, ch diff.Change, text string) segment {
	label := fmt.Sprintf("<b>%s</b> %s", ch.Action, code(ch.ID()))
	if ch.Class != "" {
		label += " · " + string(ch.Class)
	}
	if ch.NotValidated {
		label += " (not validated by the API server)"
	}
	if ch.Reason != "" {
		label += " — " + esc(ch.Reason)
	}
	if text == "" {
		return segment{sec: sec, text: "- " + label + "\n\n"}
	}
	return fencedSegment(sec, label+"\n\n"+fieldsLine(ch), label+" (continued)\n\n", "diff", text)
}

// fencedSegment is a header followed by body in a code fence; cont is the
// header of a continuation when the body is split (head when empty).
func fencedSegment(sec *section, head, cont, lang, body string) segment {
	return segment{
		sec:   sec,
		head:  head,
		cont:  cmp.Or(cont, head),
		fence: diff.CodeFence(body),
		lang:  lang,
		lines: strings.Split(strings.TrimRight(body, "\n"), "\n"),
	}
}

func textSegment(s string) segment { return segment{text: s} }

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// code renders s as inline code that neither HTML nor Markdown can
// reinterpret; empty stays empty.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "<code>" + esc(s) + "</code>"
}

// escaper turns every character that HTML or GitHub Markdown reads as
// markup (tags, entities, emphasis, code spans, links and images, table
// cells, headings and issue references, mentions) into a numeric character reference, which renders
// as the character itself in HTML blocks and Markdown text alike.
var escaper = func() *strings.Replacer {
	var pairs []string
	for _, r := range "&<>\"`*_[]|\\~#@" {
		pairs = append(pairs, string(r), fmt.Sprintf("&#%d;", r))
	}
	return strings.NewReplacer(pairs...)
}()

// quote renders s, escaped, as the lines of a block quote.
func quote(s string) string {
	return "> " + strings.ReplaceAll(esc(strings.TrimRight(s, "\n")), "\n", "\n> ")
}

// esc escapes s for use anywhere in the comment outside code fences.
func esc(s string) string { return escaper.Replace(s) }
