package diff

import (
	"encoding/json"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// MaskedValuesDiff is a unified diff of a release's values, old (---) to
// new (+++), as YAML with three lines of context; "" when they are equal.
// The values at the positions where marked (the new values computed with
// every Secret-sourced value replaced by SecretMarker) holds the marker are
// masked in both, as object fields are: "***" when equal, "*** (before)" and
// "*** (after)" when they differ. Either map may be nil.
func MaskedValuesDiff(old, new, marked map[string]any) (string, error) {
	o := &unstructured.Unstructured{Object: deepCopyMap(old)}
	n := &unstructured.Unstructured{Object: deepCopyMap(new)}
	if marked != nil {
		maskPaths(o, n, markedPaths(&unstructured.Unstructured{Object: marked}))
	}
	a, err := valuesYAML(o.Object)
	if err != nil {
		return "", err
	}
	b, err := valuesYAML(n.Object)
	if err != nil {
		return "", err
	}
	if a == b {
		return "", nil
	}
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: splitLines(a), B: splitLines(b), FromFile: "live", ToFile: "merged", Context: 3,
	})
	return strings.TrimRight(out, "\n"), err
}

func valuesYAML(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := yaml.Marshal(m)
	return string(b), err
}

// deepCopyMap copies values through JSON, which takes any number type
// (runtime.DeepCopyJSONValue would panic on an int).
func deepCopyMap(m map[string]any) map[string]any {
	out := map[string]any{}
	if b, err := json.Marshal(m); err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}
