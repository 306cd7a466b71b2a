package diff

import (
	"context"
	"reflect"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// diffWithBase diffs the request's Kustomizations at req.Base and at
// req.Root against the same cluster (two independent engine runs, in
// parallel) and classifies every change of the second by the first (issue
// #12, "PR change vs drift"):
//
//   - pr: the base build and the merge build differ there;
//   - drift: the cluster differs from the base build there and the merge
//     build does not change it;
//   - pr+drift: both.
//
// A Kustomization whose base build or diff failed keeps its changes
// unclassified and says why in KustomizationReport.BaseError.
func (d *Differ) diffWithBase(ctx context.Context, req Request) (*Report, error) {
	mergeReq := req
	mergeReq.Base, mergeReq.keep = "", newKept()
	baseReq := mergeReq
	baseReq.Root, baseReq.keep = req.Base, newKept()
	baseReq.Kustomization = req.Kustomization.DeepCopy()
	baseReq.More = make([]*kustomizev1.Kustomization, len(req.More))
	for i, ks := range req.More {
		baseReq.More[i] = ks.DeepCopy()
	}
	var base, merged *Report
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { base, err = d.Diff(gctx, baseReq); return err })
	g.Go(func() (err error) { merged, err = d.Diff(gctx, mergeReq); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	secrets := mergeReq.keep.secrets
	secrets.add(baseReq.keep.secrets.values...)
	classifyReport(merged, base, mergeReq.keep, baseReq.keep)
	for i := range merged.Kustomizations {
		secrets.scrubReport(&merged.Kustomizations[i])
	}
	merged.Base = req.Base
	return merged, nil
}

// classifyReport classifies the changes of every Kustomization of merged
// by the same Kustomization of base; mk and bk hold the objects of the two
// runs.
func classifyReport(merged, base *Report, mk, bk *kept) {
	byKey := map[string]*KustomizationReport{}
	for i := range base.Kustomizations {
		b := &base.Kustomizations[i]
		byKey[b.Namespace+"/"+b.Name] = b
	}
	for i := range merged.Kustomizations {
		k := &merged.Kustomizations[i]
		if k.Error != "" {
			continue
		}
		key := k.Namespace + "/" + k.Name
		b := byKey[key]
		if b != nil && b.Error != "" {
			k.BaseError = b.Error
			continue
		}
		if p := byKey[k.Parent]; b == nil && p != nil && p.Error != "" {
			// Not in the base run because its parent's base build failed,
			// not because the pull request adds it.
			k.BaseError = "the base build of its parent " + k.Parent + " failed: " + p.Error
			continue
		}
		classifyKustomization(k, b, mk.of(key), bk.of(key))
	}
}

// classifyKustomization classifies k's changes; b is nil when the base run
// did not diff this Kustomization (the pull request adds it), and then
// every change is the pull request's.
func classifyKustomization(k, b *KustomizationReport, mobjs, bobjs map[string]*keptObject) {
	baseChanges := map[string]Change{}
	if b != nil {
		for _, c := range b.Changes {
			baseChanges[changeKey(c)] = c
		}
	}
	counts := ClassCounts{}
	for i, c := range k.Changes {
		if !isChange(c.Action) {
			continue
		}
		key := changeKey(c)
		bc, hasB := baseChanges[key]
		k.Changes[i] = classifyChange(c, bc, hasB, mobjs[key], bobjs[key])
		counts.add(k.Changes[i].Class)
	}
	classifyHelm(k, b, &counts)
	k.Classes = &counts
}

// isChange reports whether an action changes the cluster or fails to.
func isChange(a Action) bool {
	return a == ActionCreated || a == ActionConfigured || a == ActionDeleted || a == ActionFailed
}

// classifyChange classifies one change c of the merge run; bc is the same
// object's change in the base run (hasB false when the base run has none:
// not built and not pruned), mo and bo the objects the two runs kept (nil
// when a build does not contain the object).
//
// The pull request touches the object when the two builds differ there (or
// only one contains it); it has drifted when the base build would change
// it too. A configured object whose dry-runs can be compared is classified
// field by field instead, and split into PRDiff and DriftDiff when it has
// fields of both kinds.
func classifyChange(c, bc Change, hasB bool, mo, bo *keptObject) Change {
	if fields, ok := classifyFields(c, bc, hasB, mo, bo); ok {
		return fields
	}
	touched := (mo != nil) != (bo != nil)
	if mo != nil && bo != nil {
		touched = !reflect.DeepEqual(mo.manifest.Object, bo.manifest.Object)
	}
	c.Class = classOf(touched, hasB && isChange(bc.Action))
	return c
}

func classOf(pr, drift bool) Class {
	switch {
	case pr && drift:
		return ClassPRAndDrift
	case drift:
		return ClassDrift
	}
	return ClassPR
}

// classifyFields classifies a configured object field by field: live (L),
// merge dry-run (M) and base dry-run (B) are compared, and each field that
// differs between L and M is pr when B and M differ there, drift when L and
// B differ there, both when both. B is L when the base run leaves the
// object unchanged; without a base build of it every field is pr. ok is
// false when the dry-runs are not at hand (re-creations, objects not
// validated, Secrets, whose data ssa masks before it is returned).
func classifyFields(c, bc Change, hasB bool, mo, bo *keptObject) (Change, bool) {
	if c.Action != ActionConfigured || mo == nil || mo.live == nil || (c.Kind == "Secret" && !strings.Contains(c.APIVersion, "/")) {
		return c, false
	}
	live, merged := withoutNoise(mo.live), withoutNoise(mo.merged)
	var base *unstructured.Unstructured
	switch {
	case !hasB && bo == nil:
		// Not in the base build: the pull request adds it.
	case hasB && bc.Action == ActionUnchanged:
		base = live
	case hasB && bc.Action == ActionConfigured && bo != nil && bo.merged != nil:
		base = withoutNoise(bo.merged)
	default:
		return c, false
	}
	changed := changedPaths(live.Object, merged.Object)
	if len(changed) == 0 {
		return c, false
	}
	var prPaths, driftPaths []fieldPath
	if base != nil {
		prPaths, driftPaths = changedPaths(base.Object, merged.Object), changedPaths(live.Object, base.Object)
	}
	var inPR, inDrift []fieldPath
	c.Fields = make([]FieldChange, 0, len(changed))
	for _, p := range changed {
		pr := base == nil || overlaps(p, prPaths)
		drift := base != nil && overlaps(p, driftPaths)
		cl := classOf(pr || !drift, drift)
		if cl == ClassDrift {
			inDrift = append(inDrift, p)
		} else {
			inPR = append(inPR, p)
		}
		c.Fields = append(c.Fields, FieldChange{Path: pathString(p, merged.Object), Class: cl})
	}
	slices.SortFunc(c.Fields, func(a, b FieldChange) int { return strings.Compare(a.Path, b.Path) })
	c.Class = objectClass(c.Fields)
	if len(inPR) > 0 && len(inDrift) > 0 {
		c.PRDiff = withDiff(Change{}, live, withValuesOf(live, merged, inPR), mo.paths).Diff
		c.DriftDiff = withDiff(Change{}, live, withValuesOf(live, merged, inDrift), mo.paths).Diff
	}
	return c, true
}

// objectClass is pr or drift when every field is, else pr+drift.
func objectClass(fields []FieldChange) Class {
	first := fields[0].Class
	for _, f := range fields[1:] {
		if f.Class != first {
			return ClassPRAndDrift
		}
	}
	return first
}
