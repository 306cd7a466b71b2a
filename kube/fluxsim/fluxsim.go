// Package fluxsim leaves a cluster the way kustomize-controller leaves it
// after reconciling a source tree: every object of a Kustomization's build
// server-side applied with the controller's field manager and owner labels,
// and the Kustomization's status.inventory listing them. End-to-end tests
// and `fluxdiff demo` use it to make realistic live clusters without
// running Flux; fluxdiff itself never applies anything.
//
// It is a simulation of the apply, not of the controller: no health checks,
// no post-build substitution, no decryption, no prune.
package fluxsim

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
)

// Owner labels that kustomize-controller sets on every object it applies.
const (
	LabelName      = "kustomize.toolkit.fluxcd.io/name"
	LabelNamespace = "kustomize.toolkit.fluxcd.io/namespace"
)

// Options tune Reconcile.
type Options struct {
	// Ignore holds the GitRepository's spec.ignore patterns.
	Ignore string
	// Revision is written as status.lastAppliedRevision, e.g.
	// "main@sha1:0123...".
	Revision string
	// Recursive reconciles the Kustomizations in the build that read the
	// same source, after the parent, in dependsOn order; then the
	// ExternalArtifacts of the ArtifactGenerators in the build that copy
	// from that source, and the Kustomizations that read them.
	Recursive bool
}

// Reconcile creates ks in the cluster when missing, applies what it builds
// from root, and records the inventory in its status. It returns the
// Kustomizations it reconciled ("namespace/name"), ks first.
func Reconcile(ctx context.Context, c client.Client, root string, ks *kustomizev1.Kustomization, opts Options) ([]string, error) {
	ks = ks.DeepCopy()
	objs, err := diff.Build(root, ks, diff.BuildOptions{Ignore: opts.Ignore})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		labelOwner(o, ks)
	}
	if err := applyAll(ctx, c, objs); err != nil {
		return nil, fmt.Errorf("reconcile %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	if err := recordInventory(ctx, c, ks, objs, opts.Revision); err != nil {
		return nil, err
	}
	done := []string{ks.Namespace + "/" + ks.Name}
	if !opts.Recursive {
		return done, nil
	}
	for _, child := range children(ks, objs) {
		more, err := Reconcile(ctx, c, root, child, opts)
		if err != nil {
			return nil, err
		}
		done = append(done, more...)
	}
	more, err := reconcileArtifacts(ctx, c, root, ks, objs, opts)
	if err != nil {
		return nil, err
	}
	return append(done, more...), nil
}

func labelOwner(o *unstructured.Unstructured, ks *kustomizev1.Kustomization) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelName] = ks.Name
	labels[LabelNamespace] = ks.Namespace
	o.SetLabels(labels)
}

// applyAll applies CRDs and Namespaces first, then the rest, as the
// controller's staged apply does.
func applyAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	first := func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace"
	}
	for _, stage := range []bool{true, false} {
		for _, o := range objs {
			if first(o) != stage {
				continue
			}
			o = o.DeepCopy()
			if err := c.Patch(ctx, o, client.Apply, client.FieldOwner(diff.FieldManager), client.ForceOwnership); err != nil {
				return fmt.Errorf("apply %s %s: %w", o.GetKind(), name(o), err)
			}
		}
	}
	return nil
}

// recordInventory makes sure ks exists and writes its inventory: entries
// "namespace_name_group_kind" with the object's API version, as the
// controller's inventory package writes them.
func recordInventory(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, objs []*unstructured.Unstructured, revision string) error {
	live := &kustomizev1.Kustomization{}
	err := c.Get(ctx, client.ObjectKeyFromObject(ks), live)
	if apierrors.IsNotFound(err) {
		live = ks.DeepCopy()
		live.ResourceVersion, live.Status = "", kustomizev1.KustomizationStatus{}
		err = c.Create(ctx, live)
	}
	if err != nil {
		return fmt.Errorf("kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	inv := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		id := strings.Join([]string{o.GetNamespace(), o.GetName(), gvk.Group, gvk.Kind}, "_")
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: id, Version: gvk.Version})
	}
	slices.SortFunc(inv.Entries, func(a, b kustomizev1.ResourceRef) int { return cmp.Compare(a.ID, b.ID) })
	live.Status.Inventory = inv
	live.Status.LastAppliedRevision = revision
	live.Status.ObservedGeneration = live.Generation
	live.Status.Conditions = []metav1.Condition{{
		Type: "Ready", Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded",
		Message: "Applied revision: " + revision, LastTransitionTime: metav1.Now(), ObservedGeneration: live.Generation,
	}}
	if err := c.Status().Update(ctx, live); err != nil {
		return fmt.Errorf("status of kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	return nil
}

// children returns the Kustomizations in the build that read parent's
// source, ordered so that each comes after those it depends on.
func children(parent *kustomizev1.Kustomization, objs []*unstructured.Unstructured) []*kustomizev1.Kustomization {
	var out []*kustomizev1.Kustomization
	for _, ks := range kustomizationsIn(parent, objs) {
		ref := ks.Spec.SourceRef
		if ref.Kind == parent.Spec.SourceRef.Kind && ref.Name == parent.Spec.SourceRef.Name && !ks.Spec.Suspend {
			out = append(out, ks)
		}
	}
	return byDependsOn(out)
}

// byDependsOn sorts ks so that dependencies come first, then by name; a
// cycle leaves the rest in name order.
func byDependsOn(ks []*kustomizev1.Kustomization) []*kustomizev1.Kustomization {
	slices.SortFunc(ks, func(a, b *kustomizev1.Kustomization) int { return cmp.Compare(a.Name, b.Name) })
	placed := map[string]bool{}
	var out []*kustomizev1.Kustomization
	for len(out) < len(ks) {
		progress := false
		for _, k := range ks {
			if placed[k.Name] || !depsPlaced(k, placed) {
				continue
			}
			placed[k.Name], progress = true, true
			out = append(out, k)
		}
		if !progress {
			for _, k := range ks {
				if !placed[k.Name] {
					placed[k.Name] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}

func depsPlaced(k *kustomizev1.Kustomization, placed map[string]bool) bool {
	for _, d := range k.Spec.DependsOn {
		if !placed[d.Name] {
			return false
		}
	}
	return true
}

func name(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
