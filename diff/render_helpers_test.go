package diff

import (
	"bytes"
	"testing"
)

// renderAll renders rep in every format.
func renderAll(t *testing.T, rep *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, fn := range map[string]func(*bytes.Buffer, *Report) error{
		"text":     func(b *bytes.Buffer, r *Report) error { return WriteText(b, r) },
		"markdown": func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) },
		"json":     func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, r) },
	} {
		var b bytes.Buffer
		if err := fn(&b, rep); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}
