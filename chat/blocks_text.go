package chat

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mrkdwnReplacer escapes the three characters Slack mrkdwn reserves
// (docs.slack.dev, "Formatting text for app surfaces": escaping text).
var mrkdwnReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes s for mrkdwn text.
func esc(s string) string { return mrkdwnReplacer.Replace(s) }

// textLen is the length Slack counts: UTF-16 code units, as its limits are
// checked by JavaScript-style string lengths.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// fenceBreaker keeps "```" inside content from closing the code block
// early: a zero-width space is put between the backticks. Only the Slack
// rendering is changed; the uploaded full report keeps the exact text.
var fenceBreaker = strings.NewReplacer("```", "`\u200b`\u200b`")

// codeOverhead is what codeBlock adds around its content.
const codeOverhead = len("```\n\n```")

// codeBlock wraps already escaped content in a mrkdwn code block.
func codeBlock(escaped string) string { return "```\n" + escaped + "\n```" }

// codeChunks escapes raw for a code block and splits it into chunks whose
// escaped length is at most max, at line ends where it can and inside a
// line only when one line alone is longer. Nothing is dropped: the chunks
// joined with "\n" (at line splits) or "" (inside a line) are the whole
// escaped text.
func codeChunks(raw string, max int) []string {
	var (
		chunks []string
		cur    strings.Builder
		curLen int
	)
	flush := func() {
		if cur.Len() > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
			curLen = 0
		}
	}
	for _, line := range strings.Split(raw, "\n") {
		for _, piece := range splitLine(esc(fenceBreaker.Replace(line)), max) {
			n := textLen(piece)
			sep := 0
			if cur.Len() > 0 {
				sep = 1
			}
			if curLen+sep+n > max {
				flush()
				sep = 0
			}
			if sep == 1 {
				cur.WriteByte('\n')
			}
			cur.WriteString(piece)
			curLen += sep + n
		}
	}
	flush()
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	return chunks
}

// splitLine cuts an escaped line into pieces of at most max length, never
// inside an HTML entity or a UTF-8 sequence.
func splitLine(line string, max int) []string {
	if textLen(line) <= max {
		return []string{line}
	}
	var pieces []string
	for textLen(line) > max {
		cut, n := 0, 0
		for cut < len(line) {
			r, size := utf8.DecodeRuneInString(line[cut:])
			step, width := size, utf16.RuneLen(r)
			if r == '&' {
				if end := strings.IndexByte(line[cut:], ';'); end > 0 && end <= 5 {
					step, width = end+1, end+1
				}
			}
			if n+width > max {
				break
			}
			cut += step
			n += width
		}
		if cut == 0 { // max is smaller than one entity: keep going, never loop
			_, cut = utf8.DecodeRuneInString(line)
		}
		pieces = append(pieces, line[:cut])
		line = line[cut:]
	}
	return append(pieces, line)
}

// ellipsize shortens plain s to at most max length, marking the cut with
// "…". For labels (titles, headers) only, never for diff content.
func ellipsize(s string, max int) string {
	if textLen(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := utf16.RuneLen(r)
		if n+w > max-1 {
			break
		}
		b.WriteRune(r)
		n += w
	}
	return b.String() + "…"
}
