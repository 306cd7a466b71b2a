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

// scrubber holds every secret value seen (from substituteFrom Secrets, of
// the new and the live Kustomization specs) and replaces them in rendered
// text. Text scrubbing skips values shorter than minScrubLen; structured
// masking (valueMasker) uses them all. It is safe for concurrent scrubs once
// all values are added.
type scrubber struct{ values []string }

func (s *scrubber) add(values ...string) {
	for _, v := range values {
		if v != "" && !slices.Contains(s.values, v) {
			s.values = append(s.values, v)
		}
	}
	// Longest first, so that a value containing another is replaced whole.
	slices.SortFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

func (s *scrubber) scrub(text string) string {
	for _, v := range s.values {
		if len(v) >= minScrubLen {
			text = strings.ReplaceAll(text, v, maskValue)
		}
	}
	return text
}

// scrubChange scrubs a change's diff and reason.
func (s *scrubber) scrubChange(c Change) Change {
	c.Diff = s.scrub(c.Diff)
	c.Reason = s.scrub(c.Reason)
	c.PRDiff, c.DriftDiff = s.scrub(c.PRDiff), s.scrub(c.DriftDiff)
	for i := range c.Fields {
		c.Fields[i].Path = s.scrub(c.Fields[i].Path)
	}
	return c
}

// scrubReport scrubs every text of a Kustomization's report.
func (s *scrubber) scrubReport(k *KustomizationReport) {
	k.Error = s.scrub(k.Error)
	k.BaseError = s.scrub(k.BaseError)
	for i := range k.Warnings {
		k.Warnings[i] = s.scrub(k.Warnings[i])
	}
	for i := range k.Changes {
		k.Changes[i] = s.scrubChange(k.Changes[i])
	}
	for i := range k.Risks {
		f := &k.Risks[i]
		f.Message, f.Old, f.New = s.scrub(f.Message), s.scrub(f.Old), s.scrub(f.New)
	}
	s.scrubHelm(k)
}

// contains reports whether v holds one of the scrubber's values (see
// valueMasker.holdsSecret).
func (s *scrubber) contains(v string) bool {
	return s != nil && s.masker().holdsSecret(v)
}

// masker masks the scrubber's values, and extra ones, in objects.
func (s *scrubber) masker(extra ...string) valueMasker {
	return valueMasker{values: append(slices.Clip(s.values), extra...)}
}

// valueMasker masks, in an object shown whole (a deletion), every string
// value that holds a secret value: equal to one of any length, or containing
// one of at least minScrubLen characters. Position-based masking needs the
// build that made the object, which a deleted object no longer has.
type valueMasker struct{ values []string }

// mask replaces the matching string values of obj in place.
func (m valueMasker) mask(obj *unstructured.Unstructured) {
	if obj == nil || len(m.values) == 0 {
		return
	}
	for _, p := range m.paths(obj) {
		replace(obj.Object, p, maskValue)
	}
}

// paths returns the paths of the string values of obj that hold a secret.
func (m valueMasker) paths(obj *unstructured.Unstructured) []fieldPath {
	return stringPaths(obj, m.holdsSecret)
}

func (m valueMasker) holdsSecret(s string) bool {
	for _, v := range m.values {
		if v != "" && (s == v || len(v) >= minScrubLen && strings.Contains(s, v)) {
			return true
		}
	}
	return false
}
