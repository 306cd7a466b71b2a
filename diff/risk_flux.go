package diff

import (
	"context"
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statefulKinds are the kinds whose deletion loses data or takes much with
// it, and what goes with them.
var statefulKinds = map[schema.GroupKind]string{
	{Kind: "PersistentVolumeClaim"}: "its volume's data may be lost",
	{Kind: "PersistentVolume"}:      "its data may be lost",
	{Kind: "Namespace"}:             "with every object in it",
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: "with every custom resource of it",
	{Group: "apps", Kind: "StatefulSet"}:                              "its pods go",
}

// reportRisks adds the flags that concern a Kustomization as a whole to
// reports (the Kustomization ks diffed, then those its deletions finalize):
// stateful or wide objects deleted, and, when ks would change anything, a
// suspended ks or a dependency that is not ready.
func (r *run) reportRisks(ctx context.Context, ks *kustomizev1.Kustomization, reports []KustomizationReport) {
	defer func() {
		if p := recover(); p != nil {
			reports[0].Warnings = append(reports[0].Warnings, fmt.Sprintf("risk flags are incomplete: internal error: %v", p))
		}
	}()
	for i := range reports {
		k := &reports[i]
		for _, c := range k.Changes {
			by := prunedBy
			if i > 0 {
				by = finalizedBy
			}
			if f, ok := r.deletionRisk(ctx, c, by); ok {
				k.Risks = append(k.Risks, r.placeDeleted(f, ks.Spec.Path))
			}
		}
	}
	kr := &reports[0]
	if kr.Error != "" || kr.Counts.Created+kr.Counts.Configured+kr.Counts.Deleted == 0 {
		return
	}
	var flags []Risk
	if ks.Spec.Suspend {
		flags = append(flags, Risk{Kind: RiskSuspended, Field: "spec.suspend",
			Message: "the Kustomization is suspended (spec.suspend: true): nothing of this change applies until it is resumed"})
	}
	flags = append(flags, r.dependencyRisks(ctx, ks)...)
	for _, f := range flags {
		f.APIVersion, f.ObjectKind, f.Namespace, f.Name = kustomizev1.GroupVersion.String(), kustomizev1.KustomizationKind, ks.Namespace, ks.Name
		f.File, f.Line = r.sources().locate(ks.Spec.Path, kustomizev1.KustomizationKind, ks.Name)
		kr.Risks = append(kr.Risks, f)
	}
}

// What deletes an object, as a deletion flag's message begins.
const (
	prunedBy    = "deleted by prune (it left the build)"
	finalizedBy = "deleted when its Kustomization is deleted (Flux's finalizer)"
)

// deletionRisk flags a deleted stateful or wide object; by says what
// deletes it (prunedBy, finalizedBy or helmDeletedBy).
func (r *run) deletionRisk(ctx context.Context, c Change, by string) (Risk, bool) {
	gk := schema.FromAPIVersionAndKind(c.APIVersion, c.Kind).GroupKind()
	what, ok := statefulKinds[gk]
	if c.Action != ActionDeleted || !ok {
		return Risk{}, false
	}
	if gk.Kind == "CustomResourceDefinition" {
		if n, err := r.customResources(ctx, c.Name); err == nil {
			what = fmt.Sprintf("with every custom resource of it (%d in the cluster)", n)
		}
	}
	msg := by + ", " + what
	if c.Reason != "" {
		msg += "; " + c.Reason
	}
	return Risk{Kind: RiskDeletion, APIVersion: c.APIVersion, ObjectKind: c.Kind, Namespace: c.Namespace, Name: c.Name, Message: msg}, true
}

// customResources counts the objects of the CustomResourceDefinition name
// in its storage version (metadata only).
func (r *run) customResources(ctx context.Context, name string) (int, error) {
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	if err := r.d.Client.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
		return 0, err
	}
	group, _ := fieldValue(crd.Object, "spec", "group")
	kind, _ := fieldValue(crd.Object, "spec", "names", "kind")
	versions, _ := fieldValue(crd.Object, "spec", "versions")
	list, _ := versions.([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		if m["storage"] != true {
			continue
		}
		objs := &unstructured.UnstructuredList{}
		objs.SetGroupVersionKind(schema.GroupVersionKind{Group: fmt.Sprint(group), Version: fmt.Sprint(m["name"]), Kind: fmt.Sprint(kind) + "List"})
		if err := r.d.Client.List(ctx, objs); err != nil {
			return 0, err
		}
		return len(objs.Items), nil
	}
	return 0, fmt.Errorf("custom resource definition %s has no storage version", name)
}

// dependencyRisks flags each Kustomization in ks's spec.dependsOn that
// kustomize-controller would not take as ready (checkDependencies in
// internal/controller/kustomization_controller.go): missing, observed
// generation behind, or Ready not True. The revision check (the dependency
// applied the same source revision) is left out: a pull request's revision
// is never applied yet. A dependency with a readyExpr is not checked.
func (r *run) dependencyRisks(ctx context.Context, ks *kustomizev1.Kustomization) []Risk {
	var out []Risk
	for _, ref := range ks.Spec.DependsOn {
		if ref.ReadyExpr != "" {
			continue
		}
		ns := ref.Namespace
		if ns == "" {
			ns = ks.Namespace
		}
		dep := &kustomizev1.Kustomization{}
		var why string
		switch err := r.d.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, dep); {
		case apierrors.IsNotFound(err):
			why = "does not exist in the cluster"
		case err != nil:
			why = "cannot be read: " + err.Error()
		case len(dep.Status.Conditions) == 0 || dep.Generation != dep.Status.ObservedGeneration:
			why = "has not been reconciled since its last change"
		default:
			c := apimeta.FindStatusCondition(dep.Status.Conditions, meta.ReadyCondition)
			if c != nil && c.Status == "True" {
				continue
			}
			why = "is not Ready"
			if c != nil {
				why += fmt.Sprintf(" (%s: %s)", c.Reason, showValue(c.Message))
			}
		}
		out = append(out, Risk{Kind: RiskDependency, Field: "spec.dependsOn",
			Message: fmt.Sprintf("Flux waits before applying this change: its dependency Kustomization %s/%s %s", ns, ref.Name, why)})
	}
	return out
}
