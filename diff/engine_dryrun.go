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

// Annotation and label keys kustomize-controller honours.
var (
	keyReconcile = kustomizev1.GroupVersion.Group + "/reconcile"
	keySSA       = kustomizev1.GroupVersion.Group + "/ssa"
	keyForce     = kustomizev1.GroupVersion.Group + "/force"
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
// build creates are recognised and shown as created rather than failed.
func (d *Differ) dryRunAll(ctx context.Context, rm *ssa.ResourceManager, ks *kustomizev1.Kustomization, objs []*unstructured.Unstructured) ([]Change, error) {
	opts := diffOptions(ks)
	changes := make([]Change, len(objs))
	var first, rest []int
	for i, o := range objs {
		if ssautils.IsCRD(o) || ssautils.IsNamespace(o) {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	// With SOPS decryption configured, kustomize-controller decrypts
	// encrypted Secrets with keys fluxdiff does not hold; without it, it
	// applies them as they are, and so does the dry-run.
	decrypts := ks.Spec.Decryption != nil && ks.Spec.Decryption.Provider == "sops"
	run := func(idx []int, p *pending) error {
		return d.forEach(ctx, idx, func(i int) {
			if decrypts && isSOPS(objs[i]) {
				changes[i] = d.diffSOPS(ctx, objs[i])
				return
			}
			changes[i] = d.diffObject(ctx, rm, objs[i], opts, p)
		})
	}
	if err := run(first, nil); err != nil {
		return nil, err
	}
	if err := run(rest, newPending(objs, changes, first)); err != nil {
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

// pending holds the Namespaces and CRDs that the build creates.
type pending struct {
	namespaces map[string]bool
	kinds      map[schema.GroupKind]bool
}

func newPending(objs []*unstructured.Unstructured, changes []Change, idx []int) *pending {
	p := &pending{namespaces: map[string]bool{}, kinds: map[schema.GroupKind]bool{}}
	for _, i := range idx {
		if changes[i].Action != ActionCreated {
			continue
		}
		o := objs[i]
		if ssautils.IsNamespace(o) {
			p.namespaces[o.GetName()] = true
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		p.kinds[schema.GroupKind{Group: group, Kind: kind}] = true
	}
	return p
}

// covers says why obj cannot be validated yet, or "" when it can.
func (p *pending) covers(obj *unstructured.Unstructured) string {
	if p == nil {
		return ""
	}
	if p.kinds[obj.GroupVersionKind().GroupKind()] {
		return "its CustomResourceDefinition is created by the same build"
	}
	if ns := obj.GetNamespace(); ns != "" && p.namespaces[ns] {
		return "its Namespace " + ns + " is created by the same build"
	}
	return ""
}

// diffObject dry-runs one object and describes the outcome. A panic in the
// libraries underneath becomes a failed change, never a crash.
func (d *Differ) diffObject(ctx context.Context, rm *ssa.ResourceManager, obj *unstructured.Unstructured, opts ssa.DiffOptions, p *pending) (c Change) {
	defer func() {
		if r := recover(); r != nil {
			c = changeFor(obj, ActionFailed)
			c.Reason = fmt.Sprintf("internal error while diffing: %v", r)
		}
	}()
	entry, live, merged, err := rm.Diff(ctx, obj.DeepCopy(), opts)
	if err != nil {
		if why := p.covers(obj); why != "" {
			c := withDiff(changeFor(obj, ActionCreated), nil, obj)
			c.NotValidated, c.Reason = true, "not validated by the API server: "+why
			return c
		}
		c := changeFor(obj, ActionFailed)
		c.Reason = dryRunReason(err)
		return c
	}
	switch entry.Action {
	case ssa.CreatedAction:
		return d.created(ctx, obj)
	case ssa.ConfiguredAction:
		return withDiff(changeFor(obj, ActionConfigured), live, merged)
	case ssa.SkippedAction:
		c := changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj, entry)
		return c
	default:
		return changeFor(obj, ActionUnchanged)
	}
}

// created handles ssa's "created", which also covers a forced re-creation of
// an existing object whose immutable fields change.
func (d *Differ) created(ctx context.Context, obj *unstructured.Unstructured) Change {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	if err := d.Client.Get(ctx, client.ObjectKeyFromObject(obj), live); err == nil {
		c := withDiff(changeFor(obj, ActionConfigured), live, obj)
		c.Reason = "immutable fields change: Flux deletes and re-creates the object (force)"
		return c
	}
	return withDiff(changeFor(obj, ActionCreated), nil, obj)
}

// withDiff fills c.Diff from live → merged, masking Secret values.
func withDiff(c Change, live, merged *unstructured.Unstructured) Change {
	if live != nil {
		live = live.DeepCopy()
	}
	if merged != nil {
		merged = merged.DeepCopy()
	}
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
func skipReason(obj *unstructured.Unstructured, _ *ssa.ChangeSetEntry) string {
	switch {
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
