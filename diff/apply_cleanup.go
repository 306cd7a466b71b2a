package diff

import (
	"context"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cleanupManagers are the field managers whose fields kustomize-controller
// takes over before it applies (KustomizationReconciler.apply, ssa's
// ApplyCleanupOptions.FieldManagers; names match by prefix): kubectl in any
// form (kubectl apply --server-side, kubectl-client-side-apply, kubectl-edit,
// kubectl-rollout, ...), before-first-apply, and the controller's own Update
// entries from before it used server-side apply. The controller's
// --disallowed-field-managers flag adds more; fluxdiff cannot see it.
var cleanupManagers = []ssa.FieldManager{
	{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
	{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
	{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
	{Name: FieldManager, OperationType: metav1.ManagedFieldsOperationUpdate},
}

// cleanup is what kustomize-controller's metadata clean-up would do to one
// live object before applying to it.
type cleanup struct {
	// entries are the live managed fields after the take-over; the last one
	// is the controller's apply entry holding the fields taken over. Nil
	// when no manager is taken over.
	entries []metav1.ManagedFieldsEntry
	// managers names the managers taken over.
	managers []string
	// annotations and labels are the clean-up keys the live object has.
	annotations, labels []string
}

// cleanupFor returns the clean-up kustomize-controller would patch into live
// before applying desired, or nil when it patches nothing. ssa's
// cleanupMetadata skips objects marked ssa: Merge (live or desired).
func cleanupFor(desired, live *unstructured.Unstructured) *cleanup {
	merge := map[string]string{keySSA: kustomizev1.MergeValue}
	if live == nil || ssautils.AnyInMetadata(desired, merge) || ssautils.AnyInMetadata(live, merge) {
		return nil
	}
	c := &cleanup{}
	for _, k := range cleanupAnnotations {
		if _, ok := live.GetAnnotations()[k]; ok {
			c.annotations = append(c.annotations, k)
		}
	}
	for _, k := range cleanupLabels {
		if _, ok := live.GetLabels()[k]; ok {
			c.labels = append(c.labels, k)
		}
	}
	// The patch ssa would send; its value is the new managedFields.
	patch, err := ssa.PatchReplaceFieldsManagers(live, cleanupManagers, FieldManager)
	if err == nil && len(patch) == 1 && len(patch[0].Value) > 0 {
		c.entries = patch[0].Value
		c.managers = takenOver(live.GetManagedFields(), c.entries)
	}
	if c.entries == nil && len(c.annotations) == 0 && len(c.labels) == 0 {
		return nil
	}
	return c
}

// takenOver names the live managers that the new entries no longer list.
func takenOver(live, after []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, e := range live {
		kept := slices.ContainsFunc(after, func(a metav1.ManagedFieldsEntry) bool {
			return a.Manager == e.Manager && a.Operation == e.Operation && a.Subresource == e.Subresource
		})
		if !kept && !slices.Contains(out, e.Manager) {
			out = append(out, e.Manager)
		}
	}
	return out
}

// reason explains the clean-up in a Change.
func (c *cleanup) reason() string {
	var parts []string
	if len(c.managers) > 0 {
		parts = append(parts, "Flux takes over the fields set by "+strings.Join(c.managers, ", ")+
			" and removes those its manifest does not set")
	}
	if keys := append(slices.Clone(c.annotations), c.labels...); len(keys) > 0 {
		parts = append(parts, "Flux removes "+strings.Join(keys, ", "))
	}
	return strings.Join(parts, "; ")
}

// afterCleanup predicts the object kustomize-controller leaves: it patches
// the clean-up into the live object and then applies the manifest, so the
// apply prunes every field taken over that the manifest does not set and
// that no other manager holds. The API server cannot dry-run the two steps
// together (a dry-run patch is not kept), so the apply is dry-run against
// the live object as it is, and the answer corrected: its managed fields
// tell which fields the manifest sets (the controller's apply entry) and
// which other managers hold; the fields taken over minus these are removed,
// as are the clean-up annotations and labels the manifest does not set.
func (r *run) afterCleanup(ctx context.Context, desired *unstructured.Unstructured, c *cleanup) (*unstructured.Unstructured, error) {
	merged := desired.DeepCopy()
	err := r.d.Client.Patch(ctx, merged, client.Apply, client.DryRunAll, client.ForceOwnership, client.FieldOwner(FieldManager))
	if err != nil {
		return nil, err
	}
	if n := len(c.entries); n > 0 {
		applied := managedSet(merged.GetManagedFields(), isControllerApply)
		takenOver := managedSet(c.entries[n-1:], func(metav1.ManagedFieldsEntry) bool { return true })
		others := managedSet(c.entries[:n-1], func(metav1.ManagedFieldsEntry) bool { return true })
		remove := takenOver.Difference(applied).Difference(others)
		keep := applied.Union(others)
		removeFields(merged.Object, remove, keep)
	}
	dropKeys(merged, desired, c)
	unstructured.RemoveNestedField(merged.Object, "metadata", "managedFields")
	return merged, nil
}

// isControllerApply selects kustomize-controller's apply entry.
func isControllerApply(e metav1.ManagedFieldsEntry) bool {
	return e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == ""
}

// dropKeys removes the clean-up annotations and labels that desired does
// not set from merged.
func dropKeys(merged, desired *unstructured.Unstructured, c *cleanup) {
	for _, k := range c.annotations {
		if _, set := desired.GetAnnotations()[k]; !set {
			unstructured.RemoveNestedField(merged.Object, "metadata", "annotations", k)
		}
	}
	for _, k := range c.labels {
		if _, set := desired.GetLabels()[k]; !set {
			unstructured.RemoveNestedField(merged.Object, "metadata", "labels", k)
		}
	}
}

// dropIgnored removes the spec.ignore paths whose selector matches match
// from each of objs, as ssa's Diff does before it returns the objects.
func dropIgnored(opts ssa.DiffOptions, match *unstructured.Unstructured, objs ...*unstructured.Unstructured) error {
	if len(opts.DriftIgnoreRules) == 0 {
		return nil
	}
	compiled, err := jsondiff.CompileIgnoreRules(opts.DriftIgnoreRules)
	if err != nil {
		return err
	}
	var paths []string
	for sel, p := range compiled {
		if sel.MatchUnstructured(match) {
			paths = append(paths, p...)
		}
	}
	patch := jsondiff.GenerateRemovePatch(paths...)
	for _, o := range objs {
		if err := jsondiff.ApplyPatchToUnstructured(o, patch); err != nil {
			return err
		}
	}
	return nil
}
