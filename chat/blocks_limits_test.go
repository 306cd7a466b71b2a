package chat

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// sectionTexts returns the text of every section block.
func sectionTexts(t *testing.T, blocks []slack.Block) []string {
	t.Helper()
	var out []string
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil {
			out = append(out, s.Text.Text)
		}
	}
	return out
}

var (
	partSuffix = regexp.MustCompile(` \(part \d+/\d+\)$`)
	fenced     = regexp.MustCompile("(?s)^```\n(.*)\n```$")
)

// shownContent returns, per object title line ("*action* `ID`"), the code
// block content of its sections joined in order.
func shownContent(t *testing.T, blocks []slack.Block) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, text := range sectionTexts(t, blocks) {
		title, rest, ok := strings.Cut(text, "\n")
		if !ok {
			continue
		}
		m := fenced.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		out[partSuffix.ReplaceAllString(title, "")] += m[1]
	}
	return out
}

func noNewlines(s string) string { return strings.ReplaceAll(s, "\n", "") }

// TestRenderNeverCutsSilently renders reports of many sizes and checks
// that Slack would take every message, and that each changed object is
// either shown whole (its diff, escaped, across its parts) or counted as
// omitted, for the message to link the full report.
func TestRenderNeverCutsSilently(t *testing.T) {
	oneLongLine := bigReport(1, 1)
	oneLongLine.Kustomizations[0].Changes[0].Diff = "+" + strings.Repeat("a&b<c>é😀", 1500)
	tests := []struct {
		name      string
		report    *diff.Report
		wantShort bool // the whole report fits
	}{
		{"one small object", bigReport(1, 5), true},
		{"one object over one section", bigReport(1, 120), true},
		{"one object over the message", bigReport(1, 2000), false},
		{"many small objects", bigReport(80, 2), false},
		{"many large objects", bigReport(30, 200), false},
		{"a single line longer than a section, with entities and wide runes", oneLongLine, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Render(Message{Report: tt.report, ReportID: 1})
			checkSlackLimits(t, r.Blocks)
			if r.NeedsFile() == tt.wantShort {
				t.Fatalf("NeedsFile() = %v, want %v", r.NeedsFile(), !tt.wantShort)
			}
			shown := shownContent(t, r.Blocks)
			whole := 0
			for _, ch := range tt.report.Kustomizations[0].Changes {
				got, ok := shown["*"+string(ch.Action)+"* `"+esc(ch.ID())+"`"]
				want := esc(fenceBreaker.Replace(ch.Diff))
				if ok && noNewlines(got) == noNewlines(want) {
					whole++
				} else if ok && !strings.HasPrefix(noNewlines(want), noNewlines(got)) {
					t.Errorf("%s: shown text is not the start of its diff", ch.ID())
				}
			}
			if total := len(tt.report.Kustomizations[0].Changes); whole+r.OmittedObjects != total {
				t.Errorf("%d objects shown whole + %d counted omitted != %d objects", whole, r.OmittedObjects, total)
			}
			raw, _ := json.Marshal(r.Blocks)
			if r.NeedsFile() && !strings.Contains(string(raw), "is attached in this message's thread") {
				t.Error("an incomplete message does not say where the full report is")
			}
		})
	}
}

func TestCodeChunks(t *testing.T) {
	raw := "line one\n" + strings.Repeat("x&", 40) + "\nlast <line>"
	for _, max := range []int{10, 17, 50, 1000} {
		chunks := codeChunks(raw, max)
		for _, c := range chunks {
			if n := textLen(c); n > max && max >= 5 {
				t.Errorf("max %d: chunk of %d: %q", max, n, c)
			}
			if strings.Count(c, "&") != strings.Count(c, ";") {
				t.Errorf("max %d: an entity was split in %q", max, c)
			}
		}
		if noNewlines(strings.Join(chunks, "")) != noNewlines(esc(raw)) {
			t.Errorf("max %d: chunks do not rebuild the text", max)
		}
	}
}
