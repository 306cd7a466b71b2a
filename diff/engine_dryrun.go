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
	r.dropClusterNamespaces(items)
	live := r.readLive(ctx, items)
	for i := range items {
		items[i].live = live
	}
	opts := diffOptions(ks)
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
				changes[i] = r.diffObject(ctx, items[i], opts)
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
	r.keep.items(ks, items)
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
	// namespaced holds the scope of the kinds in kinds, crds their new
	// definitions.
	namespaced map[schema.GroupKind]bool
	crds       map[schema.GroupKind]*unstructured.Unstructured
}

func newPending() *pending {
	return &pending{namespaces: map[string]bool{}, kinds: map[schema.GroupKind]bool{},
		namespaced: map[schema.GroupKind]bool{}, crds: map[schema.GroupKind]*unstructured.Unstructured{}}
}

// note records a Namespace created, or a CRD created or changed (a new
// version or schema), by a build.
func (p *pending) note(o *unstructured.Unstructured, a Action) {
	switch {
	case ssautils.IsNamespace(o) && a == ActionCreated:
		p.namespaces[o.GetName()] = true
	case ssautils.IsCRD(o) && (a == ActionCreated || a == ActionConfigured):
		gk, namespaced, _ := crdScope(o)
		p.kinds[gk] = true
		p.namespaced[gk] = namespaced
		p.crds[gk] = o
	}
}

// definition returns the new CustomResourceDefinition of kind gk when a
// build so far creates or changes it, else nil.
func (p *pending) definition(gk schema.GroupKind) *unstructured.Unstructured {
	return p.crds[gk]
}

// scope says whether kind gk, defined by a CRD that a build so far creates
// or changes, is namespaced; known is false for other kinds.
func (p *pending) scope(gk schema.GroupKind) (namespaced, known bool) {
	namespaced, known = p.namespaced[gk]
	return namespaced, known
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
