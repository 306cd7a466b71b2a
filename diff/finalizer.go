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

// finalizerExclusions are the objects kustomize-controller's finalizer
// leaves in place (finalize's DeleteOptions.Exclusions). Unlike prune, it
// does not consult the run's skipped set, so ssa: Ignore is no exclusion.
var finalizerExclusions = map[string]string{
	keyPrune:     kustomizev1.DisabledValue,
	keyReconcile: kustomizev1.DisabledValue,
}

// finalized lists, for every Flux Kustomization that kr's changes delete,
// what kustomize-controller's finalizer then deletes in its turn, as a
// report nested under kr (flux diff does not show these yet: flux2#6042).
// A deleted Kustomization that itself applied Kustomizations is followed
// down to the run's depth limit.
func (r *run) finalized(ctx context.Context, kr *KustomizationReport, depth int) ([]KustomizationReport, error) {
	var out []KustomizationReport
	for _, c := range kr.Changes {
		if c.Action != ActionDeleted || c.Kind != kustomizev1.KustomizationKind || c.APIVersion != kustomizev1.GroupVersion.String() {
			continue
		}
		if depth >= r.d.maxDepth() {
			kr.Warnings = append(kr.Warnings, fmt.Sprintf("what deleting %s deletes is not shown beyond depth %d", c.ID(), r.d.maxDepth()))
			continue
		}
		fr, ok, err := r.finalize(ctx, c.Namespace, c.Name, kr.Namespace+"/"+kr.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if kr.Counts.Failed > 0 {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("%s/%s fails to apply here, and Flux prunes only after a successful apply: this happens once that is fixed", kr.Namespace, kr.Name))
		}
		nested, err := r.finalized(ctx, &fr, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(append(out, fr), nested...)
	}
	return out, nil
}

// finalize describes what the finalizer of the live Kustomization
// namespace/name deletes; ok is false when it is gone or holds no inventory.
func (r *run) finalize(ctx context.Context, namespace, name, parent string) (kr KustomizationReport, ok bool, err error) {
	kr = KustomizationReport{Cluster: r.d.Cluster, Target: r.d.Target, Namespace: namespace, Name: name, Parent: parent, Changes: []Change{}}
	ks := &kustomizev1.Kustomization{}
	if err := r.d.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ks); err != nil {
		switch {
		case ctx.Err() != nil:
			return kr, false, ctx.Err()
		case apierrors.IsNotFound(err):
			return kr, false, nil
		}
		kr.Error = "cannot read the deleted Kustomization, so what its finalizer deletes is not shown: " + err.Error()
		return kr, true, nil
	}
	if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) == 0 {
		return kr, false, nil
	}
	kr.Path, kr.Source = ks.Spec.Path, sourceString(ks)
	kr.Warnings = append(kr.Warnings, "deleted by this change: Flux's finalizer runs on its inventory")
	switch {
	case !finalizerDeletes(ks):
		kr.Warnings = append(kr.Warnings, fmt.Sprintf("its %d objects stay in the cluster: %s", len(ks.Status.Inventory.Entries), orphanReason(ks)))
		return kr, true, nil
	case ks.Spec.KubeConfig != nil:
		kr.Warnings = append(kr.Warnings, "its objects, in the cluster of spec.kubeConfig, are deleted; they are not listed here")
		return kr, true, nil
	}
	masks := r.maskerFor(ctx, ks)
	for _, e := range ks.Status.Inventory.Entries {
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil {
			kr.Error = fmt.Sprintf("status.inventory: %v", err)
			return kr, true, nil
		}
		if c, found := r.finalizerDeletion(ctx, ks, id, e.Version, masks); found {
			kr.Changes = append(kr.Changes, r.secrets.scrubChange(c))
			kr.Counts.add(c.Action)
		}
	}
	return kr, true, ctx.Err()
}

// finalizerDeletes mirrors the controller's finalizerShouldDeleteResources:
// a suspended Kustomization deletes nothing; deletionPolicy Delete and
// WaitForTermination delete, MirrorPrune (the default) deletes when
// spec.prune is true, Orphan never does.
func finalizerDeletes(ks *kustomizev1.Kustomization) bool {
	if ks.Spec.Suspend {
		return false
	}
	switch ks.GetDeletionPolicy() {
	case kustomizev1.DeletionPolicyMirrorPrune:
		return ks.Spec.Prune
	case kustomizev1.DeletionPolicyDelete, kustomizev1.DeletionPolicyWaitForTermination:
		return true
	}
	return false
}

func orphanReason(ks *kustomizev1.Kustomization) string {
	switch {
	case ks.Spec.Suspend:
		return "it is suspended"
	case ks.GetDeletionPolicy() == kustomizev1.DeletionPolicyOrphan:
		return "its deletionPolicy is Orphan"
	}
	return "spec.prune is false (deletionPolicy MirrorPrune)"
}

// finalizerDeletion describes the deletion of one inventory entry by ks's
// finalizer; found is false when the object is already gone.
func (r *run) finalizerDeletion(ctx context.Context, ks *kustomizev1.Kustomization, id object.ObjMetadata, version string, masks valueMasker) (Change, bool) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(id.GroupKind.WithVersion(version))
	live.SetNamespace(id.Namespace)
	live.SetName(id.Name)
	err := r.d.Client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		return Change{}, false
	case err != nil:
		c := changeFor(live, ActionFailed)
		c.Reason = "cannot read the object the finalizer deletes: " + err.Error()
		return c, true
	}
	switch {
	case !hasOwnerLabels(live, ks):
		c := changeFor(live, ActionSkipped)
		c.Reason = "not labelled as owned by this Kustomization, so Flux's finalizer leaves it"
		return c, true
	case ssautils.AnyInMetadata(live, finalizerExclusions):
		c := changeFor(live, ActionSkipped)
		c.Reason = "Flux's finalizer leaves it: " + skipReason(live)
		return c, true
	}
	masks.mask(live)
	return withDiff(changeFor(live, ActionDeleted), live, nil, nil), true
}
