package diff

import (
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// childKustomizations returns the Flux Kustomizations in parent's build that
// read from the same source as parent, with their spec as built. Children
// with another source cannot be built from this tree and are left out.
func childKustomizations(parent *kustomizev1.Kustomization, objs []*unstructured.Unstructured) []*kustomizev1.Kustomization {
	var out []*kustomizev1.Kustomization
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Group != kustomizev1.GroupVersion.Group || gvk.Kind != kustomizev1.KustomizationKind {
			continue
		}
		child := &kustomizev1.Kustomization{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, child); err != nil {
			continue
		}
		if child.Namespace == "" {
			child.Namespace = parent.Namespace
		}
		if sourceString(child) == sourceString(parent) {
			out = append(out, child)
		}
	}
	return out
}
