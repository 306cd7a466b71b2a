package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// unknownKeys walks doc (a configuration file decoded as generic JSON) along
// the json tags of Config and returns one error per key that Config does not
// have, each naming its YAML path ("diff.concurency", "clusters[1].qsp",
// "github.repositories.acme/fleet.commentMod") and, when a known key of the
// same object is near (see suggest), that key. Keys match as encoding/json
// matches them, ignoring case, so only keys the decoder would drop are
// reported.
func unknownKeys(doc any) []error {
	var problems []error
	walkKeys(doc, reflect.TypeFor[Config](), "", &problems)
	return problems
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// walkKeys checks v against t; path is the YAML path of v ("" at the top).
func walkKeys(v any, t reflect.Type, path string, problems *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // a leaf that decodes itself (Duration, Secret)
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type error, which the decoder reports
		}
		fields := jsonFields(t)
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			f, ok := lookupField(fields, key)
			if !ok {
				*problems = append(*problems, unknownKeyError(join(path, key), fields))
				continue
			}
			walkKeys(obj[key], f.Type, join(path, key), problems)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			walkKeys(obj[key], t.Elem(), join(path, key), problems)
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return
		}
		for i, item := range list {
			walkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	}
}

// jsonFields maps the json names of t's fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// lookupField finds key among fields as encoding/json does: exactly, or
// else ignoring case.
func lookupField(fields map[string]reflect.StructField, key string) (reflect.StructField, bool) {
	if f, ok := fields[key]; ok {
		return f, true
	}
	for name, f := range fields {
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// unknownKeyError says that the key at path is unknown and, when one of
// the object's known keys is near, which.
func unknownKeyError(path string, fields map[string]reflect.StructField) error {
	parent, key := "", path
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, key = path[:i], path[i+1:]
	}
	if near := suggest(key, slices.Sorted(maps.Keys(fields))); near != "" {
		return fmt.Errorf("unknown field %q (did you mean %q?)", path, join(parent, near))
	}
	return fmt.Errorf("unknown field %q", path)
}

// suggest returns the name in names nearest to key (editDistance,
// ignoring case) when it is near enough to be a typo: at most a third of
// the key's length, and at least 1, 2 from five characters on. names are
// sorted; ties go to the first. "" when none is near.
func suggest(key string, names []string) string {
	limit := max(1, min(2, len(key)/5), len(key)/3)
	best, bestDist := "", limit+1
	for _, name := range names {
		if d := editDistance(strings.ToLower(key), strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// in bytes: the fewest insertions, deletions, substitutions and swaps of
// two adjacent bytes that turn one into the other (Levenshtein's distance
// plus swaps, the commonest typo: "qsp" for "qps").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// join appends key to the dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
