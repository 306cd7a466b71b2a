package diff

import (
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// childKustomizations returns the Flux Kustomizations in parent's build that
// kustomize-controller would build from the same source, with their spec as
// built, and a warning for each one that is left out and why.
func childKustomizations(parent *kustomizev1.Kustomization, items []item) ([]*kustomizev1.Kustomization, []string) {
	var out []*kustomizev1.Kustomization
	var warnings []string
	for _, it := range items {
		gvk := it.obj.GroupVersionKind()
		if gvk.Group != kustomizev1.GroupVersion.Group || gvk.Kind != kustomizev1.KustomizationKind {
			continue
		}
		id := it.obj.GetNamespace() + "/" + it.obj.GetName()
		child := &kustomizev1.Kustomization{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(it.obj.Object, child); err != nil {
			warnings = append(warnings, fmt.Sprintf("nested Kustomization %s is not diffed: %v", id, err))
			continue
		}
		if child.Namespace == "" {
			child.Namespace = parent.Namespace
		}
		switch {
		case child.Spec.Suspend:
			warnings = append(warnings, fmt.Sprintf("nested Kustomization %s is suspended, so Flux would not apply it", id))
		case child.Spec.KubeConfig != nil:
			warnings = append(warnings, fmt.Sprintf("nested Kustomization %s applies to another cluster (spec.kubeConfig) and is not diffed here", id))
		case sourceString(child) != sourceString(parent):
			warnings = append(warnings, fmt.Sprintf("nested Kustomization %s reads %s, not this source, and is not diffed", id, sourceString(child)))
		default:
			out = append(out, child)
		}
	}
	return out, warnings
}
