package helm

import (
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
)

// markLeaves returns raw with every value replaced by diff.SecretMarker:
// raw itself when it is one value (a targetPath reference), else every
// scalar of the YAML document (a document that does not parse is returned
// as the marker, and fails later as the real one does).
func markLeaves(raw string, single bool) string {
	if single {
		return diff.SecretMarker
	}
	var doc any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return diff.SecretMarker
	}
	b, err := yaml.Marshal(mapLeaves(doc, func(any) any { return diff.SecretMarker }))
	if err != nil {
		return diff.SecretMarker
	}
	return string(b)
}

// leafStrings returns raw and every string scalar of raw as a YAML
// document: the secret values to scrub from texts (numbers and booleans are
// left out: scrubbing "true" everywhere would mangle every diff).
func leafStrings(raw string) []string {
	out := []string{raw}
	var doc any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return out
	}
	mapLeaves(doc, func(v any) any {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
		return v
	})
	return out
}

// mapLeaves rebuilds v with fn applied to every scalar.
func mapLeaves(v any, fn func(any) any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = mapLeaves(x, fn)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = mapLeaves(x, fn)
		}
		return out
	}
	return fn(v)
}
