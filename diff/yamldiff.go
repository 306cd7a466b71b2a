package diff

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
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

// toYAML renders obj, or "" for nil.
func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(obj.Object)
	return string(b), err
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
