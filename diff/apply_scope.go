package diff

import (
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// crdScope returns the kind a CustomResourceDefinition defines and whether
// that kind is namespaced (spec.scope "Namespaced"); ok is false for any
// other object.
func crdScope(o *unstructured.Unstructured) (gk schema.GroupKind, namespaced, ok bool) {
	if !ssautils.IsCRD(o) {
		return schema.GroupKind{}, false, false
	}
	group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
	return schema.GroupKind{Group: group, Kind: kind}, scope != "Cluster", true
}

// dropClusterNamespaces clears metadata.namespace on built objects of
// cluster-scoped kinds. kustomize sets the namespace (from namespace: or
// spec.targetNamespace) on every kind it does not know to be cluster-scoped:
// custom kinds such as a ClusterIssuer, and built-ins newer than kustomize's
// list such as MutatingAdmissionPolicy. The API server ignores it, so the
// object kustomize-controller applies, and the inventory entry it records
// from the server's answer, have no namespace; keyed with one, the object
// would not match its inventory entry and would read as pruned.
//
// The scope comes from a CustomResourceDefinition in this build, then from
// one an enclosing build creates or changes, then from the cluster's REST
// mapper. An object whose scope cannot be told keeps its namespace.
func (r *run) dropClusterNamespaces(items []item) {
	built := map[schema.GroupKind]bool{}
	for _, it := range items {
		if gk, namespaced, ok := crdScope(it.obj); ok {
			built[gk] = namespaced
		}
	}
	for _, it := range items {
		if it.obj.GetNamespace() == "" {
			continue
		}
		gk := it.obj.GroupVersionKind().GroupKind()
		namespaced, known := built[gk]
		if !known {
			namespaced, known = r.pending.scope(gk)
		}
		if !known {
			n, err := r.d.Client.IsObjectNamespaced(it.obj)
			namespaced, known = n, err == nil
		}
		if known && !namespaced {
			it.obj.SetNamespace("")
		}
	}
}
