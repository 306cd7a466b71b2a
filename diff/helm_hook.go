package diff

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// HelmDiffer renders and diffs the HelmReleases of one Kustomization's
// build; package diff/helm implements it. Set Differ.Helm to use one.
type HelmDiffer interface {
	// DiffHelmReleases returns one report per HelmRelease it renders;
	// problems are part of the reports, never a panic or an error.
	DiffHelmReleases(ctx context.Context, in HelmInput) []HelmReleaseReport
}

// HelmInput is what a HelmDiffer gets for one Kustomization.
type HelmInput struct {
	// Root is the source tree being diffed (the pull request's).
	Root string
	// Kustomization is the one whose build this is.
	Kustomization *kustomizev1.Kustomization
	// Objects are the build's objects after substitution, as they would be
	// applied (copies: the HelmDiffer may keep them).
	Objects []*unstructured.Unstructured
	// Changes are the build's object changes, by Change.ID.
	Changes map[string]Change
	// DryRun compares rendered objects with the cluster (see RenderedSet).
	DryRun func(ctx context.Context, set RenderedSet) RenderedDiff
	// AddSecrets registers secret values (from Secrets named in valuesFrom)
	// so that every text of the report is scrubbed of them.
	AddSecrets func(values ...string)
}

// RenderedObject is one object of a chart's render.
type RenderedObject struct {
	Object *unstructured.Unstructured
	// Marked is the same object rendered with every value that came from a
	// Secret replaced by SecretMarker; its fields that contain the marker
	// are masked in the diff (nil: no value came from a Secret).
	Marked *unstructured.Unstructured
}

// SecretMarker stands in for Secret-sourced values in a second, marked
// render (see RenderedObject.Marked and MaskedValuesDiff).
const SecretMarker = secretMarker

// RenderedSet is a release's new objects and the objects of its current
// release, to compare with the cluster.
type RenderedSet struct {
	// Owner is the field manager and owner-label group of the applier:
	// helm-controller's for HelmReleases.
	Owner ssa.Owner
	// Objects are the new render's objects, namespaces set.
	Objects []RenderedObject
	// Previous are the objects of the current release's manifest; those the
	// new render no longer has are deletions (as Helm's upgrade deletes
	// them), unless annotated helm.sh/resource-policy: keep.
	Previous []*unstructured.Unstructured
}

// RenderedDiff is what DryRun found for a RenderedSet.
type RenderedDiff struct {
	// Changes has one entry per object of the set, in order, then the
	// deletions of objects the current release has and the render does not.
	Changes []Change
	// Risks are the flags on those objects (see renderedRisks), without a
	// location: the HelmDiffer's caller places them at the HelmRelease.
	Risks []Risk
}

// Helm's resource policy annotation and the value that keeps an object
// (helm.sh/helm/v4 pkg/kube ResourcePolicyAnno, KeepPolicy).
const (
	helmResourcePolicy = "helm.sh/resource-policy"
	helmKeepPolicy     = "keep"
)

// diffHelm hands the build of ks to the configured HelmDiffer.
func (r *run) diffHelm(ctx context.Context, ks *kustomizev1.Kustomization, items []item, changes []Change) []HelmReleaseReport {
	if r.d.Helm == nil {
		return nil
	}
	in := HelmInput{Root: r.req.Root, Kustomization: ks.DeepCopy(), Changes: map[string]Change{},
		DryRun: r.dryRunRendered, AddSecrets: r.secrets.add}
	for _, it := range items {
		in.Objects = append(in.Objects, it.obj.DeepCopy())
	}
	for _, c := range changes {
		in.Changes[c.ID()] = c
	}
	reports := r.d.Helm.DiffHelmReleases(ctx, in)
	for i := range reports {
		h := &reports[i]
		for j := range h.Risks {
			h.Risks[j].File, h.Risks[j].Line = r.sources().locate(ks.Spec.Path, "HelmRelease", h.Name)
		}
	}
	return reports
}

// dryRunRendered diffs a render's objects, CRDs and Namespaces first, then
// lists the deletions and flags the risks.
func (r *run) dryRunRendered(ctx context.Context, set RenderedSet) RenderedDiff {
	changes := make([]Change, len(set.Objects))
	seen := make([]*observation, len(set.Objects))
	var first, rest []int
	for i, ro := range set.Objects {
		seen[i] = &observation{}
		if ssautils.IsCRD(ro.Object) || ssautils.IsNamespace(ro.Object) {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	diffAll := func(idx []int) {
		_ = r.d.forEach(ctx, idx, func(i int) {
			changes[i] = r.secrets.scrubChange(r.diffRendered(ctx, set.Owner, set.Objects[i], seen[i]))
		})
	}
	diffAll(first)
	for _, i := range first {
		r.pending.note(set.Objects[i].Object, changes[i].Action)
	}
	diffAll(rest)
	deleted := r.renderedDeletions(ctx, set)
	if n := countFailed(changes); n > 0 {
		for i := range deleted {
			if deleted[i].Action == ActionDeleted {
				deleted[i].Reason = joinReasons(deleted[i].Reason, helmDeleteBlocked(n))
			}
		}
	}
	changes = append(changes, deleted...)
	return RenderedDiff{Changes: changes, Risks: r.renderedRisks(ctx, set, changes, seen)}
}

// diffRendered dry-runs one rendered object with owner's field manager (a
// server-side apply, as Helm 4 applies with server-side apply), recording
// in seen what the dry-run saw.
func (r *run) diffRendered(ctx context.Context, owner ssa.Owner, ro RenderedObject, seen *observation) (c Change) {
	obj := ro.Object.DeepCopy()
	defer func() {
		if p := recover(); p != nil {
			c = changeFor(obj, ActionFailed)
			c.Reason = fmt.Sprintf("internal error while diffing: %v", p)
		}
	}()
	if err := normalize.Unstructured(obj); err != nil {
		c = changeFor(obj, ActionFailed)
		c.Reason = "normalize: " + err.Error()
		return c
	}
	var paths []fieldPath
	if ro.Marked != nil {
		paths = markedPaths(ro.Marked)
	}
	pc := r.prefetch(ctx, obj, nil) // the one read ssa's Diff would make
	seen.sawLive(pc.live)
	rm := ssa.NewResourceManager(pc, nil, owner)
	entry, live, merged, err := rm.Diff(ctx, obj.DeepCopy(), ssa.DiffOptions{})
	if err != nil {
		seen.refused(err)
		return r.failedDryRun(item{obj: obj, paths: paths}, nil, err)
	}
	seen.sawMerged(merged)
	switch entry.Action {
	case ssa.CreatedAction:
		return withDiff(changeFor(obj, ActionCreated), nil, obj, paths)
	case ssa.ConfiguredAction:
		return withDiff(changeFor(obj, ActionConfigured), live, merged, paths)
	case ssa.SkippedAction:
		c = changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj)
		return c
	}
	return changeFor(obj, ActionUnchanged)
}

// renderedDeletions lists the objects of the current release that the new
// render does not have and that still exist.
func (r *run) renderedDeletions(ctx context.Context, set RenderedSet) []Change {
	rendered := map[object.ObjMetadata]bool{}
	for _, ro := range set.Objects {
		rendered[object.UnstructuredToObjMetadata(ro.Object)] = true
	}
	masks := r.secrets.masker()
	var out []Change
	for _, prev := range set.Previous {
		if rendered[object.UnstructuredToObjMetadata(prev)] {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(prev.GroupVersionKind())
		err := r.d.Client.Get(ctx, client.ObjectKeyFromObject(prev), live)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			c := changeFor(prev, ActionFailed)
			c.Reason = "cannot read the object the release would delete: " + err.Error()
			out = append(out, c)
			continue
		}
		if ssautils.AnyInMetadata(live, map[string]string{helmResourcePolicy: helmKeepPolicy}) {
			c := changeFor(prev, ActionSkipped)
			c.Reason = helmResourcePolicy + ": " + helmKeepPolicy + " (Helm leaves it when it leaves the release)"
			out = append(out, c)
			continue
		}
		masks.mask(live)
		out = append(out, r.secrets.scrubChange(withDiff(changeFor(prev, ActionDeleted), live, nil, nil)))
	}
	return out
}
