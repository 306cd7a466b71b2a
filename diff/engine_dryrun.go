package diff

import (
	"context"
	"errors"
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// diffOptions mirrors kustomize-controller's apply options.
func diffOptions(ks *kustomizev1.Kustomization) ssa.DiffOptions {
	opts := ssa.DiffOptions{
		Exclusions:           map[string]string{keyReconcile: kustomizev1.DisabledValue, keySSA: kustomizev1.IgnoreValue},
		IfNotPresentSelector: map[string]string{keySSA: kustomizev1.IfNotPresentValue},
		Force:                ks.Spec.Force,
		ForceSelector:        map[string]string{keyForce: kustomizev1.EnabledValue},
	}
	for _, rule := range ks.Spec.Ignore {
		r := jsondiff.IgnoreRule{Paths: rule.Paths}
		if t := rule.Target; t != nil {
			r.Selector = &jsondiff.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name,
				Namespace: t.Namespace, AnnotationSelector: t.AnnotationSelector, LabelSelector: t.LabelSelector}
		}
		opts.DriftIgnoreRules = append(opts.DriftIgnoreRules, r)
	}
	return opts
}

// dryRunAll diffs every object, CRDs and Namespaces first (as Flux applies
// them first), so that objects which depend on a Namespace or CRD the same
// build (or an enclosing one) creates or changes are recognised and shown as
// not validated rather than failed.
func (r *run) dryRunAll(ctx context.Context, ks *kustomizev1.Kustomization, items []item) ([]Change, error) {
	opts := diffOptions(ks)
	rm := ssa.NewResourceManager(r.d.Client, nil, owner())
	changes := make([]Change, len(items))
	var first, rest []int
	for i, it := range items {
		if ssautils.IsCRD(it.obj) || ssautils.IsNamespace(it.obj) {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	decrypts := ks.Spec.Decryption != nil && ks.Spec.Decryption.Provider == "sops"
	diffAll := func(idx []int) error {
		return r.d.forEach(ctx, idx, func(i int) {
			if decrypts && items[i].sops {
				changes[i] = r.d.diffSOPS(ctx, items[i].obj, opts)
			} else {
				changes[i] = r.diffObject(ctx, rm, items[i], opts)
			}
			changes[i] = r.secrets.scrubChange(changes[i])
		})
	}
	if err := diffAll(first); err != nil {
		return nil, err
	}
	for _, i := range first {
		r.pending.note(items[i].obj, changes[i].Action)
	}
	if err := diffAll(rest); err != nil {
		return nil, err
	}
	return changes, nil
}

// forEach calls fn for every index with at most Concurrency calls at once,
// checking the context before each.
func (d *Differ) forEach(ctx context.Context, idx []int, fn func(i int)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.concurrency())
	for _, i := range idx {
		if err := gctx.Err(); err != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			fn(i)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// pending holds the Namespaces and CRDs that the builds so far create or
// change. It is written between stages and read during them.
type pending struct {
	namespaces map[string]bool
	kinds      map[schema.GroupKind]bool
}

func newPending() *pending {
	return &pending{namespaces: map[string]bool{}, kinds: map[schema.GroupKind]bool{}}
}

// note records a Namespace created, or a CRD created or changed (a new
// version or schema), by a build.
func (p *pending) note(o *unstructured.Unstructured, a Action) {
	switch {
	case ssautils.IsNamespace(o) && a == ActionCreated:
		p.namespaces[o.GetName()] = true
	case ssautils.IsCRD(o) && (a == ActionCreated || a == ActionConfigured):
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		p.kinds[schema.GroupKind{Group: group, Kind: kind}] = true
	}
}

// covers says why obj cannot be validated yet, or "" when it can.
func (p *pending) covers(obj *unstructured.Unstructured) string {
	if p.kinds[obj.GroupVersionKind().GroupKind()] {
		return "its CustomResourceDefinition is created or changed by the same change"
	}
	if ns := obj.GetNamespace(); ns != "" && p.namespaces[ns] {
		return "its Namespace " + ns + " is created by the same change"
	}
	return ""
}

// diffObject dry-runs one object and describes the outcome. A panic in the
// libraries underneath becomes a failed change, never a crash.
func (r *run) diffObject(ctx context.Context, rm *ssa.ResourceManager, it item, opts ssa.DiffOptions) (c Change) {
	obj := it.obj
	defer func() {
		if p := recover(); p != nil {
			c = changeFor(obj, ActionFailed)
			c.Reason = fmt.Sprintf("internal error while diffing: %v", p)
		}
	}()
	entry, live, merged, err := rm.Diff(ctx, obj.DeepCopy(), opts)
	if err != nil {
		if why := r.pending.covers(obj); why != "" {
			c := withDiff(changeFor(obj, ActionCreated), nil, obj, it.paths)
			c.NotValidated, c.Reason = true, "not validated by the API server: "+why
			return c
		}
		c := changeFor(obj, ActionFailed)
		c.Reason = dryRunReason(err)
		return c
	}
	switch entry.Action {
	case ssa.CreatedAction:
		return r.created(ctx, rm, it, opts)
	case ssa.ConfiguredAction:
		return withDiff(changeFor(obj, ActionConfigured), live, merged, it.paths)
	case ssa.SkippedAction:
		c := changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj)
		return c
	default:
		return changeFor(obj, ActionUnchanged)
	}
}

// created handles ssa's "created". With force, ssa also answers "created"
// for an object whose dry-run failed for any Invalid reason, so the answer
// is checked: an existing object is re-created by Flux (its immutable fields
// change), and a new one is dry-run again without force to validate it.
func (r *run) created(ctx context.Context, rm *ssa.ResourceManager, it item, opts ssa.DiffOptions) Change {
	obj := it.obj
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	err := r.d.Client.Get(ctx, client.ObjectKeyFromObject(obj), live)
	switch {
	case err == nil:
		c := withDiff(changeFor(obj, ActionConfigured), live, obj, it.paths)
		c.Reason = "Flux deletes and re-creates the object (force), as fields that cannot change do; if the new object is invalid, it stays deleted"
		return c
	case (opts.Force || len(opts.ForceSelector) > 0) && apierrors.IsNotFound(err):
		strict := opts
		strict.Force, strict.ForceSelector = false, nil
		if _, _, _, err := rm.Diff(ctx, obj.DeepCopy(), strict); err != nil {
			c := changeFor(obj, ActionFailed)
			c.Reason = dryRunReason(err)
			return c
		}
	}
	return withDiff(changeFor(obj, ActionCreated), nil, obj, it.paths)
}

// withDiff fills c.Diff from live → merged, masking Secret values and the
// fields that carry values from Secrets.
func withDiff(c Change, live, merged *unstructured.Unstructured, secretPaths []fieldPath) Change {
	if live != nil {
		live = live.DeepCopy()
	}
	if merged != nil {
		merged = merged.DeepCopy()
	}
	maskPaths(live, merged, secretPaths)
	if isSecret(live) || isSecret(merged) {
		maskSecretPair(live, merged)
	}
	text, err := unifiedDiff(live, merged)
	if err != nil {
		c.Reason = "cannot render diff: " + err.Error()
	}
	c.Diff = text
	return c
}

// skipReason names the annotation that made Flux skip obj.
func skipReason(obj *unstructured.Unstructured) string {
	switch {
	case ssautils.AnyInMetadata(obj, map[string]string{keyPrune: kustomizev1.DisabledValue}):
		return keyPrune + ": disabled"
	case ssautils.AnyInMetadata(obj, map[string]string{keyReconcile: kustomizev1.DisabledValue}):
		return keyReconcile + ": disabled"
	case ssautils.AnyInMetadata(obj, map[string]string{keySSA: kustomizev1.IgnoreValue}):
		return keySSA + ": Ignore"
	case ssautils.AnyInMetadata(obj, map[string]string{keySSA: kustomizev1.IfNotPresentValue}):
		return keySSA + ": IfNotPresent, and the object exists"
	default:
		return "the live object is annotated to be left alone by Flux"
	}
}

// dryRunReason turns a dry-run error into one readable line.
func dryRunReason(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		return fmt.Sprintf("dry-run rejected (%s): %s", st.Reason, st.Message)
	}
	return err.Error()
}
