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

var keyPrune = kustomizev1.GroupVersion.Group + "/prune"

// pruneExclusions are kustomize-controller's exclusions when it prunes.
var pruneExclusions = map[string]string{
	keyPrune:     kustomizev1.DisabledValue,
	keyReconcile: kustomizev1.DisabledValue,
	keySSA:       kustomizev1.IgnoreValue,
}

// deletions lists the objects Flux would prune: those in the live
// Kustomization's status.inventory that the new build no longer contains,
// when spec.prune is true. Like kustomize-controller, it leaves alone objects
// marked prune: disabled, reconcile: disabled or ssa: Ignore, and objects
// that do not carry this Kustomization's owner labels.
func (d *Differ) deletions(ctx context.Context, ks *kustomizev1.Kustomization, items []item) ([]Change, error) {
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
	return out, nil
}

// deletion describes the pruning of one inventory entry; ok is false when
// the object is already gone.
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
	owner := map[string]string{
		kustomizev1.GroupVersion.Group + "/name":      ks.Name,
		kustomizev1.GroupVersion.Group + "/namespace": ks.Namespace,
	}
	labels := live.GetLabels()
	switch {
	case ssautils.AnyInMetadata(live, pruneExclusions):
		c := changeFor(live, ActionSkipped)
		c.Reason = "left the build, but Flux keeps it: " + skipReason(live)
		return c, true
	case labels[kustomizev1.GroupVersion.Group+"/name"] != owner[kustomizev1.GroupVersion.Group+"/name"] ||
		labels[kustomizev1.GroupVersion.Group+"/namespace"] != owner[kustomizev1.GroupVersion.Group+"/namespace"]:
		c := changeFor(live, ActionSkipped)
		c.Reason = "left the build but is not labelled as owned by this Kustomization, so Flux does not prune it"
		return c, true
	}
	return withDiff(changeFor(live, ActionDeleted), live, nil, nil), true
}
