package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
)

// schedule holds the Kustomizations of one run that wait to be diffed and
// picks them in the order kustomize-controller applies them: a Kustomization
// waits for its spec.dependsOn to be ready (checkDependencies requeues it
// until then), and the Kustomization that applies another comes first. The
// run's later Kustomizations then see what the earlier builds create or
// change: Namespaces, CRDs, and the ConfigMaps and Secrets of
// postBuild.substituteFrom.
type schedule struct {
	pending []nested
	known   map[string]bool // every key ever added
	done    map[string]bool
}

func newSchedule() *schedule {
	return &schedule{known: map[string]bool{}, done: map[string]bool{}}
}

// keyOf is "namespace/name".
func keyOf(ks *kustomizev1.Kustomization) string { return ks.Namespace + "/" + ks.Name }

// add queues Kustomizations, siblings by name; one already queued or diffed
// (a cycle, or a child reached twice) is left out.
func (s *schedule) add(ns ...nested) {
	slices.SortStableFunc(ns, func(a, b nested) int { return cmp.Compare(keyOf(a.ks), keyOf(b.ks)) })
	for _, n := range ns {
		if k := keyOf(n.ks); !s.known[k] {
			s.known[k] = true
			s.pending = append(s.pending, n)
		}
	}
}

// next removes and returns the Kustomization to diff next, with a warning
// when the order cannot follow the controller's: first the earliest queued
// one that waits for nothing still queued and whose dependencies are all
// known to this run; else one whose dependencies this run does not hold (the
// cluster has them, or nothing does, and further builds may yet add them);
// else, in a dependsOn cycle that Flux would wait on forever, the earliest.
func (s *schedule) next() (n nested, warning string, ok bool) {
	if len(s.pending) == 0 {
		return nested{}, "", false
	}
	queued := make(map[string]bool, len(s.pending))
	for _, p := range s.pending {
		queued[keyOf(p.ks)] = true
	}
	pick := -1
	for _, strict := range []bool{true, false} {
		for i, p := range s.pending {
			if waits, unknown := s.waits(p.ks, queued); !waits && (!strict || !unknown) {
				pick = i
				break
			}
		}
		if pick >= 0 {
			break
		}
	}
	if pick < 0 {
		pick = 0
		warning = fmt.Sprintf("its spec.dependsOn forms a cycle (%s): Flux would wait forever and never apply it", s.cycle())
	}
	n = s.pending[pick]
	s.pending = slices.Delete(s.pending, pick, pick+1)
	s.done[keyOf(n.ks)] = true
	return n, warning, true
}

// waits reports whether ks must wait for a queued Kustomization (one it
// depends on, or one whose inventory holds it), and whether it depends on
// one this run has not met.
func (s *schedule) waits(ks *kustomizev1.Kustomization, queued map[string]bool) (waits, unknown bool) {
	self := keyOf(ks)
	for _, dep := range ks.Spec.DependsOn {
		k := cmp.Or(dep.Namespace, ks.Namespace) + "/" + dep.Name
		switch {
		case k == self || s.done[k]:
		case queued[k]:
			waits = true
		default:
			unknown = true
		}
	}
	for _, p := range s.pending {
		if k := keyOf(p.ks); k != self && applies(p.ks, ks) {
			waits = true
		}
	}
	return waits, unknown
}

// cycle names the queued Kustomizations.
func (s *schedule) cycle() string {
	names := make([]string, 0, len(s.pending))
	for _, p := range s.pending {
		names = append(names, keyOf(p.ks))
	}
	return strings.Join(names, ", ")
}

// applies reports whether parent's live inventory holds child: parent's
// build applies it.
func applies(parent, child *kustomizev1.Kustomization) bool {
	if parent.Status.Inventory == nil {
		return false
	}
	for _, e := range parent.Status.Inventory.Entries {
		id, err := object.ParseObjMetadata(e.ID)
		if err == nil && id.GroupKind.Group == kustomizev1.GroupVersion.Group && id.GroupKind.Kind == kustomizev1.KustomizationKind &&
			id.Namespace == child.Namespace && id.Name == child.Name {
			return true
		}
	}
	return false
}
