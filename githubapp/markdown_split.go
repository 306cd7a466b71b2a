package githubapp

import (
	"strings"
	"unicode/utf8"
)

// A rendered comment is a list of segments (a table row, a note, one
// object's diff), some inside a section (the counts table, a
// Kustomization's <details>). layout.pack fills parts with whole segments
// and opens and closes sections around them, re-opening a section cut by
// a part boundary; a segment too long for an empty part is split first,
// a fenced one between lines with the fence re-opened.

// section is markup around a run of segments.
type section struct {
	// open starts the section; reopen starts it again at the top of a
	// later part; close ends it.
	open, reopen, close string
}

// segment is one unit of a comment. A plain segment is text; a fenced one
// is head followed by lines in a code fence.
type segment struct {
	sec  *section
	text string
	// head precedes the fence; cont replaces it on continuation chunks.
	head, cont  string
	fence, lang string
	lines       []string
}

// atom is a piece of a segment small enough for an empty part.
type atom struct {
	sec  *section
	text string
}

// layout is how parts are framed: header(i, n) and, on every part but the
// last, footer(i, n). limit bounds a whole part in bytes.
type layout struct {
	limit  int
	header func(i, n int) string
	footer func(i, n int) string
}

// minBody keeps splitting finite when a limit is absurdly small; parts may
// then exceed the limit.
const minBody = 64

// reserve is the room kept in every part for its header and footer,
// measured with four-digit part numbers.
func (l layout) reserve() int {
	r := 0
	if l.header != nil {
		r += len(l.header(9999, 9999))
	}
	if l.footer != nil {
		r += len(l.footer(9999, 9999))
	}
	return r
}

// pack splits segs into framed parts of at most l.limit bytes each.
func (l layout) pack(segs []segment) []string {
	budget := l.limit - l.reserve()
	var atoms []atom
	for _, s := range segs {
		atoms = append(atoms, s.atoms(budget)...)
	}
	bodies := fill(atoms, budget)
	parts := make([]string, len(bodies))
	for i, body := range bodies {
		var b strings.Builder
		if l.header != nil {
			b.WriteString(l.header(i+1, len(bodies)))
		}
		b.WriteString(body)
		if l.footer != nil && i < len(bodies)-1 {
			b.WriteString(l.footer(i+1, len(bodies)))
		}
		parts[i] = b.String()
	}
	return parts
}

// fill packs atoms into bodies of at most budget bytes; there is always at
// least one body.
func fill(atoms []atom, budget int) []string {
	var bodies []string
	var b strings.Builder
	var cur *section
	for _, a := range atoms {
		need := len(a.text) + a.sec.closeLen()
		if a.sec != cur {
			need += cur.closeLen() + len(a.sec.openText())
		}
		if b.Len() > 0 && b.Len()+need > budget {
			b.WriteString(cur.closeText())
			bodies = append(bodies, b.String())
			b.Reset()
			if a.sec != nil && a.sec == cur {
				b.WriteString(a.sec.reopen)
			} else {
				b.WriteString(a.sec.openText())
			}
		} else if a.sec != cur {
			b.WriteString(cur.closeText())
			b.WriteString(a.sec.openText())
		}
		cur = a.sec
		b.WriteString(a.text)
	}
	b.WriteString(cur.closeText())
	return append(bodies, b.String())
}

func (s *section) openText() string {
	if s == nil {
		return ""
	}
	return s.open
}

func (s *section) closeText() string {
	if s == nil {
		return ""
	}
	return s.close
}

func (s *section) closeLen() int { return len(s.closeText()) }

// frame is the most a section adds around its atoms in one part.
func (s *section) frame() int {
	if s == nil {
		return 0
	}
	return max(len(s.open), len(s.reopen)) + len(s.close)
}

// atoms cuts s into pieces that fit an empty part of budget bytes.
func (s segment) atoms(budget int) []atom {
	room := max(budget-s.sec.frame(), minBody)
	if s.lines == nil {
		return s.textAtoms(room)
	}
	whole := s.fenced(s.head, s.lines)
	if len(whole) <= room {
		return []atom{{s.sec, whole}}
	}
	overhead := len(s.fenced(longer(s.head, s.cont), nil))
	chunks := chunkLines(s.lines, max(room-overhead, minBody))
	out := make([]atom, len(chunks))
	for i, c := range chunks {
		head := s.cont
		if i == 0 {
			head = s.head
		}
		out[i] = atom{s.sec, s.fenced(head, c)}
	}
	return out
}

// textAtoms cuts a plain segment at rune boundaries; a text this long is
// only ever a pathological note or table row.
func (s segment) textAtoms(room int) []atom {
	var out []atom
	for _, piece := range splitRunes(s.text, room) {
		out = append(out, atom{s.sec, piece})
	}
	return out
}

// fenced renders head and lines in the segment's code fence.
func (s segment) fenced(head string, lines []string) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(s.fence + s.lang + "\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString(s.fence + "\n\n")
	return b.String()
}

func longer(a, b string) string {
	if len(b) > len(a) {
		return b
	}
	return a
}

// chunkLines groups lines into chunks of at most room bytes (each line
// counted with its newline). A line longer than room is split at rune
// boundaries; its continuation pieces repeat the line's first character
// (the diff's +, - or space), so each piece still reads as part of the
// same side of the diff.
func chunkLines(lines []string, room int) [][]string {
	var chunks [][]string
	var cur []string
	size := 0
	add := func(l string) {
		if size+len(l)+1 > room && len(cur) > 0 {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		cur = append(cur, l)
		size += len(l) + 1
	}
	for _, l := range lines {
		if len(l)+1 <= room {
			add(l)
			continue
		}
		prefix := ""
		if l != "" {
			r, _ := utf8.DecodeRuneInString(l)
			prefix = string(r)
		}
		for i, piece := range splitRunes(l, room-1-len(prefix)) {
			if i > 0 {
				piece = prefix + piece
			}
			add(piece)
		}
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// splitRunes cuts s into pieces of at most n bytes without splitting a
// UTF-8 sequence.
func splitRunes(s string, n int) []string {
	n = max(n, utf8.UTFMax)
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}
