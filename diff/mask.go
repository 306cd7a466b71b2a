package diff

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks shown instead of secret values. The "(before)" / "(after)" pair
// marks a changed value; ssa's sanitizer uses the same words.
const (
	maskValue  = "***"
	maskBefore = "*** (before)"
	maskAfter  = "*** (after)"
)

// minScrubLen is the shortest substituted Secret value that is scrubbed
// from rendered diffs; shorter values would mangle ordinary YAML.
const minScrubLen = 4

// isSecret reports whether obj is a core/v1 Secret.
func isSecret(obj *unstructured.Unstructured) bool {
	return obj != nil && obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == ""
}

// maskSecretPair replaces the values of data and stringData in two versions
// of one Secret (either may be nil) so that a diff shows keys added, removed
// and changed, but never a value. stringData is folded into data first, the
// way the API server does, so live and merged compare like for like.
func maskSecretPair(live, merged *unstructured.Unstructured) {
	liveData := secretValues(live)
	mergedData := secretValues(merged)
	maskedLive := make(map[string]any, len(liveData))
	maskedMerged := make(map[string]any, len(mergedData))
	for k, v := range liveData {
		maskedLive[k] = maskValue
		if mv, ok := mergedData[k]; ok && mv != v {
			maskedLive[k], maskedMerged[k] = maskBefore, maskAfter
		}
	}
	for k := range mergedData {
		if _, done := maskedMerged[k]; !done {
			maskedMerged[k] = maskValue
		}
	}
	setSecretData(live, maskedLive)
	setSecretData(merged, maskedMerged)
}

// secretValues returns data and stringData of a Secret as one map of
// comparable strings (stringData wins, as on the server).
func secretValues(obj *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	if obj == nil {
		return out
	}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		out[k] = "b64:" + s
	}
	sdata, _, _ := unstructured.NestedMap(obj.Object, "stringData")
	for k, v := range sdata {
		s, _ := v.(string)
		out[k] = "str:" + s
	}
	return out
}

func setSecretData(obj *unstructured.Unstructured, data map[string]any) {
	if obj == nil {
		return
	}
	unstructured.RemoveNestedField(obj.Object, "stringData")
	if len(data) == 0 {
		unstructured.RemoveNestedField(obj.Object, "data")
		return
	}
	_ = unstructured.SetNestedMap(obj.Object, data, "data")
}

// scrubber replaces known secret values (from substituteFrom Secrets) in
// rendered text.
// It is safe for concurrent scrubs once all values are added.
type scrubber struct{ values []string }

func (s *scrubber) add(values ...string) {
	for _, v := range values {
		if len(v) >= minScrubLen && !slices.Contains(s.values, v) {
			s.values = append(s.values, v)
		}
	}
	// Longest first, so that a value containing another is replaced whole.
	slices.SortFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

func (s *scrubber) scrub(text string) string {
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, maskValue)
	}
	return text
}

// scrubChange scrubs a change's diff and reason.
func (s *scrubber) scrubChange(c Change) Change {
	c.Diff = s.scrub(c.Diff)
	c.Reason = s.scrub(c.Reason)
	return c
}

// scrubReport scrubs every text of a Kustomization's report.
func (s *scrubber) scrubReport(k *KustomizationReport) {
	k.Error = s.scrub(k.Error)
	for i := range k.Warnings {
		k.Warnings[i] = s.scrub(k.Warnings[i])
	}
	for i := range k.Changes {
		k.Changes[i] = s.scrubChange(k.Changes[i])
	}
}

// contains reports whether v holds one of the scrubber's values.
func (s *scrubber) contains(v string) bool {
	if s == nil {
		return false
	}
	for _, x := range s.values {
		if strings.Contains(v, x) {
			return true
		}
	}
	return false
}
