package diff

import (
	"context"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// observation is what the dry-run of one built object saw, kept for the
// risk flags. Each is written by the one goroutine that diffs its object
// and read after all have finished; a nil observation ignores writes.
type observation struct {
	// live is the object in the cluster, nil when it does not exist.
	live *unstructured.Unstructured
	// merged is the dry-run result of a configured object.
	merged *unstructured.Unstructured
	// err is the dry-run's refusal.
	err error
	// recreated: ssa answered "created" for an existing object, so Flux
	// deletes and re-creates it (force).
	recreated bool
}

func (o *observation) sawLive(live *unstructured.Unstructured) {
	if o != nil {
		o.live = live
	}
}

func (o *observation) sawMerged(merged *unstructured.Unstructured) {
	if o != nil {
		o.merged = merged
	}
}

func (o *observation) refused(err error) {
	if o != nil {
		o.err = err
	}
}

func (o *observation) recreates() {
	if o != nil {
		o.recreated = true
	}
}

// objectRisks flags the built objects of one Kustomization from their
// dry-run results (changes[i] is the outcome of items[i]): fields that
// cannot change, reconcile: disabled objects that the change would alter,
// RBAC grants and image changes. Each flag is located in the source tree.
func (r *run) objectRisks(ctx context.Context, ks *kustomizev1.Kustomization, items []item, changes []Change) []Risk {
	var out []Risk
	for i, it := range items {
		if i >= len(changes) || it.seen == nil {
			break
		}
		c := changes[i]
		var flags []Risk
		switch c.Action {
		case ActionSkipped:
			flags = r.ignoredRisks(ctx, it)
		case ActionFailed:
			flags = immutableRisks(it.obj, c, it.seen, r.refusal(ctx, it), failMessage)
		case ActionCreated, ActionConfigured:
			flags = immutableRisks(it.obj, c, it.seen, r.refusal(ctx, it), failMessage)
			after := it.seen.merged
			if after == nil {
				after = it.obj
			}
			flags = append(flags, rbacRisks(after, it.seen.live)...)
			flags = append(flags, imageRisks(after, it.seen.live)...)
		}
		for _, f := range flags {
			out = append(out, r.place(f, it.obj, ks))
		}
	}
	return out
}

// refusal asks the API server again, for an object that ssa re-creates,
// why it refuses the change in place (ssa's Diff answers "created" and
// drops the error). It is nil for any other object.
func (r *run) refusal(ctx context.Context, it item) error {
	if !it.seen.recreated {
		return nil
	}
	return r.d.Client.Patch(ctx, it.obj.DeepCopy(), client.Apply, client.DryRunAll, client.ForceOwnership, client.FieldOwner(FieldManager))
}

// ignoredRisks flags an object skipped because it, in the manifest or in
// the cluster, carries kustomize.toolkit.fluxcd.io/reconcile: disabled
// (ssa's Exclusions, which kustomize-controller sets to that annotation),
// when the change would otherwise alter it: Flux ignores the change. To
// know, the object is dry-run without the exclusion, the annotation set as
// it is live so that it is no difference in itself.
func (r *run) ignoredRisks(ctx context.Context, it item) []Risk {
	disabled := map[string]string{keyReconcile: kustomizev1.DisabledValue}
	live := it.seen.live
	onManifest := ssautils.AnyInMetadata(it.obj, disabled)
	if !onManifest && (live == nil || !ssautils.AnyInMetadata(live, disabled)) {
		return nil
	}
	if live == nil {
		return []Risk{{Kind: RiskIgnored, Message: "Flux will not create it: it is marked " + keyReconcile + ": disabled"}}
	}
	obj := it.obj.DeepCopy()
	ann := obj.GetAnnotations()
	if v, ok := live.GetAnnotations()[keyReconcile]; ok {
		ann = setKey(ann, keyReconcile, v)
	} else {
		delete(ann, keyReconcile)
	}
	obj.SetAnnotations(ann)
	rm := ssa.NewResourceManager(r.d.Client, nil, owner())
	entry, _, _, err := rm.Diff(ctx, obj, ssa.DiffOptions{})
	if err != nil || entry.Action != ssa.ConfiguredAction {
		return nil
	}
	where := "in the cluster"
	if onManifest {
		where = "in the manifest"
	}
	return []Risk{{Kind: RiskIgnored, Message: "Flux will ignore this change: the object is marked " + keyReconcile + ": disabled " + where}}
}

func setKey(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
