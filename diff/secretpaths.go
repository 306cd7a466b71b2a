package diff

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// secretMarker stands in for a Secret-sourced variable during a second,
// marked substitution; the fields that end up containing it are the fields
// that carry secret values, in the live object as much as in the new one.
const secretMarker = "fluxdiffsecretmarker"

// fieldPath addresses one value in an object: map keys (string) and list
// indexes (int).
type fieldPath []any

// markedPaths returns the paths of the string values in obj that contain the
// secret marker.
func markedPaths(obj *unstructured.Unstructured) []fieldPath {
	return stringPaths(obj, func(s string) bool { return strings.Contains(s, secretMarker) })
}

// stringPaths returns the paths of the string values in obj that match.
func stringPaths(obj *unstructured.Unstructured, match func(string) bool) []fieldPath {
	var out []fieldPath
	var walk func(v any, p fieldPath)
	walk = func(v any, p fieldPath) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(x, append(p[:len(p):len(p)], k))
			}
		case []any:
			for i, x := range t {
				walk(x, append(p[:len(p):len(p)], i))
			}
		case string:
			if match(t) {
				out = append(out, p)
			}
		}
	}
	walk(obj.Object, nil)
	return out
}

// lookup returns the value at p in v.
func lookup(v any, p fieldPath) (any, bool) {
	for _, step := range p {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil, false
			}
			v = l[s]
		}
	}
	return v, true
}

// replace sets the value at p in v, which must exist.
func replace(v any, p fieldPath, value any) {
	if len(p) == 0 {
		return
	}
	parent, ok := lookup(v, p[:len(p)-1])
	if !ok {
		return
	}
	switch s := p[len(p)-1].(type) {
	case string:
		if m, ok := parent.(map[string]any); ok {
			m[s] = value
		}
	case int:
		if l, ok := parent.([]any); ok && s < len(l) {
			l[s] = value
		}
	}
}

// maskPaths replaces the values at paths in both versions of an object (either
// may be nil): equal values become "***", different ones "*** (before)" and
// "*** (after)", so a diff shows that a secret-bearing field changed but not
// what it holds.
func maskPaths(live, merged *unstructured.Unstructured, paths []fieldPath) {
	for _, p := range paths {
		var lv, mv any
		var lok, mok bool
		if live != nil {
			lv, lok = lookup(live.Object, p)
		}
		if merged != nil {
			mv, mok = lookup(merged.Object, p)
		}
		lmask, mmask := maskValue, maskValue
		if lok && mok && !reflect.DeepEqual(lv, mv) {
			lmask, mmask = maskBefore, maskAfter
		}
		if lok {
			replace(live.Object, p, lmask)
		}
		if mok {
			replace(merged.Object, p, mmask)
		}
	}
}

// markerFor is the marker substituted for the i-th secret variable.
func markerFor(i int) string { return fmt.Sprintf("%s%dx", secretMarker, i) }
