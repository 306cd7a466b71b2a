package diff

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pruneExclusions are kustomize-controller's DeleteOptions.Exclusions when it
// prunes (KustomizationReconciler.prune): prune: disabled and reconcile:
// disabled. ssa: Ignore is not among them, so an ignored object that leaves
// the build is deleted.
var pruneExclusions = map[string]string{
	keyPrune:     kustomizev1.DisabledValue,
	keyReconcile: kustomizev1.DisabledValue,
}

// deletions lists the objects Flux would prune: those in the live
// Kustomization's status.inventory that the new build no longer contains,
// when spec.prune is true. Like kustomize-controller, it leaves alone objects
// marked prune: disabled or reconcile: disabled, and objects that do not
// carry this Kustomization's owner labels.
//
// The controller prunes only after the whole apply succeeded: a failing
// object stops the reconcile before garbage collection (and the inventory
// is not updated). So when any of applied failed, every deletion carries
// pruneBlocked as its reason.
func (d *Differ) deletions(ctx context.Context, ks *kustomizev1.Kustomization, items []item, applied []Change) ([]Change, error) {
	if !ks.Spec.Prune || ks.Status.Inventory == nil {
		return nil, nil
	}
	built := make(map[object.ObjMetadata]bool, len(items))
	for _, it := range items {
		built[object.UnstructuredToObjMetadata(it.obj)] = true
	}
	var out []Change
	for _, entry := range ks.Status.Inventory.Entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id, err := object.ParseObjMetadata(entry.ID)
		if err != nil {
			return nil, fmt.Errorf("status.inventory: %w", err)
		}
		if built[id] {
			continue
		}
		if c, ok := d.deletion(ctx, ks, id, entry.Version); ok {
			out = append(out, c)
		}
	}
	if n := countFailed(applied); n > 0 {
		for i := range out {
			if out[i].Action == ActionDeleted {
				out[i].Reason = pruneBlocked(n)
			}
		}
	}
	return out, nil
}

// pruneBlocked explains a deletion that waits for a failing apply of n
// objects.
func pruneBlocked(n int) string {
	fail := "objects fail"
	if n == 1 {
		fail = "object fails"
	}
	return fmt.Sprintf("would be deleted after a successful apply; Flux prunes only once every object applies, and %d %s here", n, fail)
}

// countFailed counts the failed changes.
func countFailed(changes []Change) int {
	n := 0
	for _, c := range changes {
		if c.Action == ActionFailed {
			n++
		}
	}
	return n
}

// deletion describes the pruning of one inventory entry; ok is false when
// the object is already gone. The rules are those of ssa's
// ResourceManager.Delete with the controller's options: the live object must
// match the owner labels (Inclusions) and carry none of pruneExclusions.
func (d *Differ) deletion(ctx context.Context, ks *kustomizev1.Kustomization, id object.ObjMetadata, version string) (Change, bool) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(id.GroupKind.WithVersion(version))
	live.SetNamespace(id.Namespace)
	live.SetName(id.Name)
	err := d.Client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		return Change{}, false
	case err != nil:
		c := changeFor(live, ActionFailed)
		c.Reason = "cannot read the object to prune: " + err.Error()
		return c, true
	}
	switch {
	case ssautils.AnyInMetadata(live, pruneExclusions):
		c := changeFor(live, ActionSkipped)
		c.Reason = "left the build, but Flux keeps it: " + skipReason(live)
		return c, true
	case !hasOwnerLabels(live, ks):
		c := changeFor(live, ActionSkipped)
		c.Reason = "left the build but is not labelled as owned by this Kustomization, so Flux does not prune it"
		return c, true
	}
	return withDiff(changeFor(live, ActionDeleted), live, nil, nil), true
}
