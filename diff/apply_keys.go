package diff

import (
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// The annotation and label keys kustomize-controller reads on the objects it
// applies, all under its API group (kustomizev1.GroupVersion.Group). They
// are spelled here only; the values they take are kustomizev1.DisabledValue,
// EnabledValue, IgnoreValue, IfNotPresentValue and MergeValue.
var (
	// keyReconcile: disabled makes Flux neither apply nor prune the object.
	keyReconcile = kustomizev1.GroupVersion.Group + "/reconcile"
	// keySSA: Ignore skips the apply, IfNotPresent applies only to create,
	// Merge keeps fields of other managers (no managed-fields clean-up).
	keySSA = kustomizev1.GroupVersion.Group + "/ssa"
	// keyForce: enabled re-creates the object when an immutable field changes.
	keyForce = kustomizev1.GroupVersion.Group + "/force"
	// keyPrune: disabled keeps the object when it leaves the build.
	keyPrune = kustomizev1.GroupVersion.Group + "/prune"
	// keyDecrypt: disabled keeps SOPS from decrypting the object.
	keyDecrypt = kustomizev1.GroupVersion.Group + "/decrypt"
)

// Metadata that kustomize-controller removes from live objects before it
// applies (its apply options' Cleanup, see cleanupOptions): kubectl's
// client-side apply record and Flux v1 leftovers.
var (
	// lastApplied is kubectl's annotation that copies the whole object (and
	// so, for Secrets, their values).
	lastApplied = corev1.LastAppliedConfigAnnotation
	// cleanupAnnotations are removed from every live object before apply.
	cleanupAnnotations = []string{lastApplied, kustomizev1.GroupVersion.Group + "/checksum", "fluxcd.io/sync-checksum"}
	// cleanupLabels are removed from every live object before apply.
	cleanupLabels = []string{"fluxcd.io/sync-gc-mark"}
)

// owner is kustomize-controller's identity in ssa: its field manager, and the
// API group its owner labels (<group>/name, <group>/namespace) live under.
func owner() ssa.Owner {
	return ssa.Owner{Field: FieldManager, Group: kustomizev1.GroupVersion.Group}
}

// hasOwnerLabels reports whether obj carries ks's owner labels, the ones
// kustomize-controller sets on apply and checks before it prunes or its
// finalizer deletes (ssa's GetOwnerLabels).
func hasOwnerLabels(obj *unstructured.Unstructured, ks *kustomizev1.Kustomization) bool {
	want := ssa.NewResourceManager(nil, nil, owner()).GetOwnerLabels(ks.Name, ks.Namespace)
	return labels.SelectorFromSet(want).Matches(labels.Set(obj.GetLabels()))
}
