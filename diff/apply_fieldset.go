package diff

import (
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Field sets are the API server's record of who set which field
// (metadata.managedFields, server-side apply). The walkers below apply a set
// to an unstructured object: a set node's members are fields owned as a
// whole, its children the fields owned in part. Map fields are matched by
// name; list elements by their key fields (associative lists), their value
// (sets) or their index (atomic lists), as in the set's path elements.

// managedSet is the union of the field sets of the entries keep selects.
// Entries whose set cannot be read are left out.
func managedSet(entries []metav1.ManagedFieldsEntry, keep func(metav1.ManagedFieldsEntry) bool) *fieldpath.Set {
	out := &fieldpath.Set{}
	for _, e := range entries {
		if e.FieldsV1 == nil || !keep(e) {
			continue
		}
		s, err := ssa.FieldsToSet(*e.FieldsV1)
		if err != nil {
			continue
		}
		out = out.Union(&s)
	}
	return out
}

// descend returns the part of s under pe, or nil.
func descend(s *fieldpath.Set, pe fieldpath.PathElement) *fieldpath.Set {
	if s == nil {
		return nil
	}
	if c, ok := s.Children.Get(pe); ok {
		return c
	}
	return nil
}

func isMember(s *fieldpath.Set, pe fieldpath.PathElement) bool {
	return s != nil && s.Members.Has(pe)
}

// elementOf finds the path element of s that names list element e at index
// i, if s has one.
func elementOf(s *fieldpath.Set, i int, e any) (fieldpath.PathElement, bool) {
	if s == nil {
		return fieldpath.PathElement{}, false
	}
	for _, pes := range []func(func(fieldpath.PathElement)){s.Members.Iterate, s.Children.Iterate} {
		var found *fieldpath.PathElement
		pes(func(pe fieldpath.PathElement) {
			if found == nil && elementMatches(pe, i, e) {
				found = &pe
			}
		})
		if found != nil {
			return *found, true
		}
	}
	return fieldpath.PathElement{}, false
}

func elementMatches(pe fieldpath.PathElement, i int, e any) bool {
	switch {
	case pe.Index != nil:
		return *pe.Index == i
	case pe.Value != nil:
		return value.Equals(*pe.Value, value.NewValueInterface(e))
	case pe.Key != nil:
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		for _, f := range *pe.Key {
			v, ok := m[f.Name]
			if !ok || !value.Equals(f.Value, value.NewValueInterface(v)) {
				return false
			}
		}
		return true
	}
	return false
}

// project returns the parts of v that s covers: children projected in
// turn, members whole. A member map that like (the same place in another
// object, nil for none) also holds as a map is cut to like's keys instead:
// server-side apply records a map set as {} as owned whole, though the
// server defaulted what is in it.
func project(v any, s *fieldpath.Set, like any) any {
	switch t := v.(type) {
	case map[string]any:
		likeMap, _ := like.(map[string]any)
		out := map[string]any{}
		for k, x := range t {
			pe := fieldpath.PathElement{FieldName: &k}
			if x, ok := projectElement(x, s, pe, likeMap[k]); ok {
				out[k] = x
			}
		}
		return out
	case []any:
		out := []any{}
		for i, x := range t {
			if pe, ok := elementOf(s, i, x); ok {
				if x, ok := projectElement(x, s, pe, nil); ok {
					out = append(out, x)
				}
			}
		}
		return out
	}
	return v
}

func projectElement(x any, s *fieldpath.Set, pe fieldpath.PathElement, like any) (any, bool) {
	child := descend(s, pe)
	switch {
	case child != nil && !child.Empty():
		return project(x, child, like), true
	case isMember(s, pe):
		return shapedLike(x, like), true
	}
	return nil, false
}

// shapedLike copies v, keeping of a map only the keys like's map has.
func shapedLike(v, like any) any {
	m, ok := v.(map[string]any)
	lm, lok := like.(map[string]any)
	if !ok || !lok {
		return runtime.DeepCopyJSONValue(v)
	}
	out := map[string]any{}
	for k, x := range m {
		if l, ok := lm[k]; ok {
			out[k] = shapedLike(x, l)
		}
	}
	return out
}

// removeFields deletes from v, in place, the fields in remove that keep does
// not hold on to: a member of remove goes whole unless keep holds it or
// anything under it, in which case only remove's children under it go. This
// is how a server-side apply drops the fields its manager gave up, while
// fields other managers own stay. It returns v with lists rebuilt.
func removeFields(v any, remove, keep *fieldpath.Set) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			pe := fieldpath.PathElement{FieldName: &k}
			if drop, rest := removal(remove, keep, pe); drop {
				delete(t, k)
			} else if rest != nil {
				t[k] = removeFields(x, rest, descend(keep, pe))
			}
		}
		return t
	case []any:
		out := t[:0:0]
		for i, x := range t {
			pe, ok := elementOf(remove, i, x)
			if !ok {
				out = append(out, x)
				continue
			}
			drop, rest := removal(remove, keep, pe)
			switch {
			case drop:
			case rest != nil:
				out = append(out, removeFields(x, rest, descend(keep, pe)))
			default:
				out = append(out, x)
			}
		}
		return out
	}
	return v
}

// removal says whether the field pe goes whole, or else which of its parts
// may go (nil for none).
func removal(remove, keep *fieldpath.Set, pe fieldpath.PathElement) (drop bool, rest *fieldpath.Set) {
	kept := descend(keep, pe)
	if isMember(remove, pe) && !isMember(keep, pe) && (kept == nil || kept.Empty()) {
		return true, nil
	}
	if r := descend(remove, pe); r != nil && !r.Empty() {
		return false, r
	}
	return false, nil
}
