package diff

import (
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// changedPaths returns the paths at which a and b first differ: a key
// present on one side only, a value of another type or content, or a list
// whose length changed (the list as a whole). Lists of equal length are
// compared item by item, as server-side apply keeps the order of the live
// object. No path is a prefix of another.
func changedPaths(a, b any) []fieldPath {
	var out []fieldPath
	var walk func(x, y any, p fieldPath)
	walk = func(x, y any, p fieldPath) {
		switch xt := x.(type) {
		case map[string]any:
			yt, ok := y.(map[string]any)
			if !ok {
				break
			}
			for k, xv := range xt {
				yv, ok := yt[k]
				if !ok {
					out = append(out, with(p, k))
					continue
				}
				walk(xv, yv, with(p, k))
			}
			for k := range yt {
				if _, ok := xt[k]; !ok {
					out = append(out, with(p, k))
				}
			}
			return
		case []any:
			yt, ok := y.([]any)
			if !ok || len(xt) != len(yt) {
				break
			}
			for i := range xt {
				walk(xt[i], yt[i], with(p, i))
			}
			return
		}
		if !reflect.DeepEqual(x, y) {
			out = append(out, p)
		}
	}
	walk(a, b, nil)
	return out
}

// with is p extended by one step, never sharing p's backing array.
func with(p fieldPath, step any) fieldPath {
	return append(p[:len(p):len(p)], step)
}

// overlaps reports whether p is a prefix of one of paths or one of them is
// a prefix of p: the two address the same value or one contains the other.
func overlaps(p fieldPath, paths []fieldPath) bool {
	for _, q := range paths {
		n := min(len(p), len(q))
		same := true
		for i := 0; i < n && same; i++ {
			same = p[i] == q[i]
		}
		if same {
			return true
		}
	}
	return false
}

// withValuesOf returns a copy of base where each of paths takes its value
// in from, or is removed when from has none. The parents of every path
// exist in base (changedPaths stops at the first difference).
func withValuesOf(base, from *unstructured.Unstructured, paths []fieldPath) *unstructured.Unstructured {
	out := base.DeepCopy()
	for _, p := range paths {
		if len(p) == 0 {
			return from.DeepCopy()
		}
		parent, ok := lookup(out.Object, p[:len(p)-1])
		if !ok {
			continue
		}
		v, present := lookup(from.Object, p)
		switch s := p[len(p)-1].(type) {
		case string:
			m, ok := parent.(map[string]any)
			switch {
			case !ok:
			case present:
				m[s] = deepCopyValue(v)
			default:
				delete(m, s)
			}
		case int:
			if l, ok := parent.([]any); ok && s < len(l) && present {
				l[s] = deepCopyValue(v)
			}
		}
	}
	return out
}

// deepCopyValue copies a JSON-shaped value.
func deepCopyValue(v any) any {
	u := &unstructured.Unstructured{Object: map[string]any{"v": v}}
	return u.DeepCopy().Object["v"]
}

// pathString renders p for people (FieldChange.Path): keys joined by dots,
// keys that hold a dot, bracket or quote as ["key"], and list items as
// [name=x] when the item in obj is a map with a name, else [i].
func pathString(p fieldPath, obj map[string]any) string {
	var b strings.Builder
	var cur any = obj
	for _, step := range p {
		switch s := step.(type) {
		case string:
			if strings.ContainsAny(s, ".[]\"") || s == "" {
				b.WriteString("[" + strconv.Quote(s) + "]")
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s)
			}
			m, _ := cur.(map[string]any)
			cur = m[s]
		case int:
			l, _ := cur.([]any)
			cur = nil
			if s < len(l) {
				cur = l[s]
			}
			if m, ok := cur.(map[string]any); ok {
				if name, ok := m["name"].(string); ok && name != "" {
					b.WriteString("[name=" + name + "]")
					continue
				}
			}
			b.WriteString("[" + strconv.Itoa(s) + "]")
		}
	}
	return b.String()
}
