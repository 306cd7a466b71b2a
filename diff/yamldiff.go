package diff

import (
	"math"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	goyaml "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// withoutNoise returns a copy of obj without the fields the server manages,
// which would only clutter a diff.
func withoutNoise(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	c := obj.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "uid"},
		{"metadata", "generation"}, {"metadata", "creationTimestamp"}, {"metadata", "selfLink"},
		{"metadata", "annotations", lastApplied}, {"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	if a, ok, _ := unstructured.NestedMap(c.Object, "metadata", "annotations"); ok && len(a) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	}
	return c
}

// toYAML renders obj, or "" for nil, as sigs.k8s.io/yaml.Marshal would
// (the text kubectl and flux print), without its JSON round trip: that
// marshals the object to JSON and parses the JSON back with go-yaml before
// emitting YAML, which was a fifth of the client's CPU in a 1,000-object
// diff. go-yaml emits the same text from the object itself once numbers
// look as the round trip leaves them (see yamlValue); a test holds the two
// equal.
func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := goyaml.Marshal(yamlValue(obj.Object))
	return string(b), err
}

// yamlValue returns v with every float64 that the round trip would turn
// into an integer turned into that integer: encoding/json writes a float of
// magnitude 1e-6 to 1e21 in 'f' format with the fewest digits, so a whole
// number carries no fraction, and go-yaml reads such text back as an int64
// or uint64 when it fits. Maps and slices are copied.
func yamlValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = yamlValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = yamlValue(e)
		}
		return out
	case float64:
		if a := math.Abs(t); math.IsInf(t, 0) || math.IsNaN(t) || a >= 1e21 || a != 0 && a < 1e-6 {
			return t
		}
		text := strconv.FormatFloat(t, 'f', -1, 64)
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return u
		}
	}
	return v
}

// unifiedDiff is a unified diff of live → merged YAML with three lines of
// context. A nil live object shows every merged line as added; a nil merged
// object every live line as removed.
func unifiedDiff(live, merged *unstructured.Unstructured) (string, error) {
	a, err := toYAML(withoutNoise(live))
	if err != nil {
		return "", err
	}
	b, err := toYAML(withoutNoise(merged))
	if err != nil {
		return "", err
	}
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: splitLines(a), B: splitLines(b),
		FromFile: "live", ToFile: "merged", Context: 3,
	})
	return strings.TrimRight(out, "\n"), err
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return difflib.SplitLines(s)
}
