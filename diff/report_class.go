package diff

import (
	"fmt"
	"strings"
)

// Class says who causes a change, when a report was made against a base
// tree as well (Request.Base): issue #12's "PR change vs drift".
type Class string

// The classes, in display order.
const (
	// ClassPR: the base build and the merge build differ there, and the
	// cluster holds the base build: merging the pull request causes it.
	ClassPR Class = "pr"
	// ClassDrift: the cluster already differs from the base build there
	// (someone changed the cluster, a controller mutates it, or the last
	// reconcile failed) and the pull request does not touch it: merging
	// neither causes nor fixes it.
	ClassDrift Class = "drift"
	// ClassPRAndDrift: both — the pull request changes something that has
	// drifted.
	ClassPRAndDrift Class = "pr+drift"
)

// Classes lists every class in display order.
var Classes = []Class{ClassPR, ClassPRAndDrift, ClassDrift}

// DriftExplanation is the one line that renderings put above the drift
// section.
const DriftExplanation = "The cluster already differs from the base branch here (changed by hand, " +
	"mutated by a controller, or the last reconcile failed); merging the pull request neither causes nor fixes it."

// FieldChange is one changed field of an object and its class.
type FieldChange struct {
	// Path addresses the field: map keys joined by dots (a key holding a
	// dot or bracket is written ["key"]), list items as [i], or [name=x]
	// when the item has a name, e.g.
	// spec.template.spec.containers[name=app].image.
	Path  string `json:"path"`
	Class Class  `json:"class"`
}

// ClassCounts tallies changed objects (created, configured, deleted or
// failed) by class; an object counts once, under its own class. A
// Kustomization's counts include the objects its HelmReleases render.
type ClassCounts struct {
	PR         int `json:"pr"`
	Drift      int `json:"drift"`
	PRAndDrift int `json:"prAndDrift"`
}

// Of returns the count of one class.
func (c ClassCounts) Of(cl Class) int {
	switch cl {
	case ClassPR:
		return c.PR
	case ClassDrift:
		return c.Drift
	case ClassPRAndDrift:
		return c.PRAndDrift
	}
	return 0
}

func (c *ClassCounts) add(cl Class) {
	switch cl {
	case ClassPR:
		c.PR++
	case ClassDrift:
		c.Drift++
	case ClassPRAndDrift:
		c.PRAndDrift++
	}
}

// String is "2 pr, 1 pr+drift, 3 drift", listing non-zero classes, or
// "no changed objects".
func (c ClassCounts) String() string {
	var parts []string
	for _, cl := range Classes {
		if n := c.Of(cl); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, cl))
		}
	}
	if len(parts) == 0 {
		return "no changed objects"
	}
	return strings.Join(parts, ", ")
}

// ClassTotals sums the class counts of every classified Kustomization;
// ok is false when none is classified.
func (r *Report) ClassTotals() (total ClassCounts, ok bool) {
	for _, k := range r.Kustomizations {
		if k.Classes == nil {
			continue
		}
		ok = true
		total.PR += k.Classes.PR
		total.Drift += k.Classes.Drift
		total.PRAndDrift += k.Classes.PRAndDrift
	}
	return total, ok
}

// InPR reports whether the change belongs with the pull request's own
// changes: class pr or pr+drift, or unclassified.
func (c Change) InPR() bool { return c.Class != ClassDrift }

// InDrift reports whether the change has a drift part to show: class
// drift (all of Diff) or pr+drift with a DriftDiff.
func (c Change) InDrift() bool {
	return c.Class == ClassDrift || (c.Class == ClassPRAndDrift && c.DriftDiff != "")
}

// PRPart is the diff to show among the pull request's changes: PRDiff when
// the change was split, else Diff.
func (c Change) PRPart() string {
	if c.PRDiff != "" {
		return c.PRDiff
	}
	return c.Diff
}

// DriftPart is the diff to show in the drift section: DriftDiff when the
// change was split, else Diff.
func (c Change) DriftPart() string {
	if c.DriftDiff != "" {
		return c.DriftDiff
	}
	return c.Diff
}
