package diff

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// maxRiskValue bounds Risk.Old and Risk.New, in bytes.
const maxRiskValue = 200

// fieldDifference is where a manifest sets a field to something else than
// the live object holds.
type fieldDifference struct {
	path      string
	old, want any
}

// firstDifference finds the first place where want, a value the manifest
// sets at path, is not contained in have, the live value there: every key
// of a map must be in have with a contained value (fields the server
// defaulted or others set are left alone, as server-side apply does; a
// null, {} or [] in the manifest asks for nothing); lists
// must be as long, their items compared one by one (named by their "name"
// when they have one); other values must be equal, numbers by value.
func firstDifference(path string, want, have any) (fieldDifference, bool) {
	if want == nil || (have == nil && empty(want)) {
		// null and {} or [] set nothing (normalization writes
		// creationTimestamp: null and resources: {}).
		return fieldDifference{}, false
	}
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return fieldDifference{path, have, want}, true
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d, ok := firstDifference(joinPath(path, k), w[k], h[k]); ok {
				return d, true
			}
		}
		return fieldDifference{}, false
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return fieldDifference{path, have, want}, true
		}
		for i := range w {
			if d, ok := firstDifference(path+itemKey(w[i], i), w[i], h[i]); ok {
				return d, true
			}
		}
		return fieldDifference{}, false
	}
	if !scalarEqual(want, have) {
		return fieldDifference{path, have, want}, true
	}
	return fieldDifference{}, false
}

// empty reports whether v is an empty map or list.
func empty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// scalarEqual compares two scalar values of unstructured objects, numbers
// by value whatever their Go type.
func scalarEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// itemKey is "[name]" for a list item with a string name, else "[i]".
func itemKey(item any, i int) string {
	if m, ok := item.(map[string]any); ok {
		if n, ok := m["name"].(string); ok && n != "" {
			return "[" + n + "]"
		}
	}
	return fmt.Sprintf("[%d]", i)
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// showValue renders a field's value for Risk.Old and Risk.New: a string as
// it is, anything else as compact JSON, absent as "", cut at maxRiskValue
// bytes.
func showValue(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(b)
		}
	}
	if len(s) > maxRiskValue {
		s = strings.ToValidUTF8(s[:maxRiskValue-len("…")], "") + "…"
	}
	return s
}

// arrow is "old → new", with "(none)" for an absent side.
func arrow(old, new string) string {
	if old == "" {
		old = "(none)"
	}
	if new == "" {
		new = "(none)"
	}
	return old + " → " + new
}

// stringList reads a list of strings at path in obj; other items are
// skipped.
func stringList(obj map[string]any, path ...string) []string {
	v, _ := fieldValue(obj, path...)
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// fieldValue returns the value at path in obj without copying it.
func fieldValue(obj map[string]any, path ...string) (any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}
