package diff

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// diffObject dry-runs one object the way kustomize-controller applies it
// (ssa's ResourceManager.Apply: skip rules, dry-run, force re-creation,
// managed-fields clean-up, drift) and describes the outcome. A panic in the
// libraries underneath becomes a failed change, never a crash.
func (r *run) diffObject(ctx context.Context, it item, opts ssa.DiffOptions) (c Change) {
	obj := it.obj
	defer func() {
		if p := recover(); p != nil {
			c = changeFor(obj, ActionFailed)
			c.Reason = fmt.Sprintf("internal error while diffing: %v", p)
		}
	}()
	pc := r.prefetch(ctx, obj, it.live)
	it.seen.sawLive(pc.live)
	if pc.live == nil {
		// ssa's Apply re-creates only objects that exist; its Diff would
		// answer "created" for any invalid new object under force.
		opts.Force, opts.ForceSelector = false, nil
	}
	rm := ssa.NewResourceManager(pc, nil, owner())
	entry, live, merged, err := rm.Diff(ctx, obj.DeepCopy(), opts)
	if err != nil {
		it.seen.refused(err)
		return r.failedDryRun(it, pc.live, err)
	}
	it.seen.sawMerged(merged)
	switch entry.Action {
	case ssa.SkippedAction:
		c := changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj)
		return c
	case ssa.CreatedAction:
		if pc.live != nil {
			return r.recreate(ctx, it, pc.live)
		}
		c = withDiff(changeFor(obj, ActionCreated), nil, obj, it.paths)
	default:
		if cl := cleanupFor(obj, pc.live); cl != nil {
			c = r.withCleanup(ctx, it, pc.live, cl, opts)
		} else if entry.Action == ssa.ConfiguredAction {
			c = withDiff(changeFor(obj, ActionConfigured), live, merged, it.paths)
			r.keep.dryRun(obj, live, merged)
		} else {
			c = changeFor(obj, ActionUnchanged)
		}
	}
	return r.checkNewSchema(c, obj, pc.live)
}

// withCleanup describes an existing object whose live metadata
// kustomize-controller cleans up before applying. The controller then always
// applies (ssa's Apply treats the clean-up patch as a change), so the object
// is configured even when its fields end up as they were.
func (r *run) withCleanup(ctx context.Context, it item, live *unstructured.Unstructured, cl *cleanup, opts ssa.DiffOptions) Change {
	merged, err := r.afterCleanup(ctx, it.obj, cl)
	if err != nil {
		c := changeFor(it.obj, ActionFailed)
		c.Reason = dryRunReason(err)
		return c
	}
	before := live.DeepCopy()
	unstructured.RemoveNestedField(before.Object, "metadata", "managedFields")
	if err := dropIgnored(opts, merged, before, merged); err != nil {
		c := changeFor(it.obj, ActionFailed)
		c.Reason = "spec.ignore: " + err.Error()
		return c
	}
	c := withDiff(changeFor(it.obj, ActionConfigured), before, merged, it.paths)
	c.Reason = joinReasons(c.Reason, cl.reason())
	r.keep.dryRun(it.obj, before, merged)
	return c
}

// failedDryRun describes an object whose dry-run was refused. An object
// whose Namespace or kind a build creates or changes first cannot be
// validated yet, but only when that is why it was refused (no such kind,
// not found); anything else fails, unless the kind's definition changes in
// this change and the object passes the new schema (see checkNewSchema).
func (r *run) failedDryRun(it item, live *unstructured.Unstructured, err error) Change {
	obj := it.obj
	if why := r.pending.covers(obj); why != "" && awaitsDefinition(err) {
		c := withDiff(changeFor(obj, ActionCreated), nil, obj, it.paths)
		c.NotValidated, c.Reason = true, "not validated by the API server: "+why
		return r.checkNewSchema(c, obj, live)
	}
	if r.pending.definition(obj.GroupVersionKind().GroupKind()) != nil {
		action := ActionConfigured
		if live == nil {
			action = ActionCreated
		}
		var before *unstructured.Unstructured
		if live != nil {
			before = setFields(live, obj)
		}
		c := withDiff(changeFor(obj, action), before, obj, it.paths)
		c.NotValidated = true
		c.Reason = "refused by the API server against the current schema (" + dryRunReason(err) +
			"); its CustomResourceDefinition changes in the same change"
		return r.checkNewSchema(c, obj, live)
	}
	c := changeFor(obj, ActionFailed)
	c.Reason = dryRunReason(err)
	return c
}

// prefetchClient answers ssa's Get of the one object being diffed from a
// read already made, so that each object costs one read.
type prefetchClient struct {
	client.Client
	key  client.ObjectKey
	gvk  schema.GroupVersionKind
	live *unstructured.Unstructured
	err  error
}

// prefetch reads the live object of obj once, from the build's bulk reads
// when they hold it; live is nil when it does not exist or cannot be read.
func (r *run) prefetch(ctx context.Context, obj *unstructured.Unstructured, bulk *liveReads) *prefetchClient {
	pc := &prefetchClient{Client: r.d.Client, key: client.ObjectKeyFromObject(obj), gvk: obj.GroupVersionKind()}
	if live, known, err := bulk.lookup(r.d.Client, obj); known {
		pc.live, pc.err = live, err
		return pc
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(pc.gvk)
	if pc.err = r.d.Client.Get(ctx, pc.key, live); pc.err == nil {
		pc.live = live
	}
	return pc
}

// Get implements client.Reader.
func (p *prefetchClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || key != p.key || u.GroupVersionKind() != p.gvk {
		return p.Client.Get(ctx, key, obj, opts...)
	}
	if p.err != nil {
		return p.err
	}
	p.live.DeepCopyInto(u)
	return nil
}

// recreate describes an existing object that kustomize-controller deletes
// and creates anew. ssa answers "created" for an existing object when its
// dry-run failed with what it takes for an immutable-field error (any
// Invalid or Conflict answer) and force is on (spec.force, or the force
// annotation on the manifest or the live object). ssa's ApplyAll then
// deletes the live object, waits for it to go, and applies the manifest as
// a new object; if that fails too, the object stays deleted.
//
// So the manifest is first validated as a new object: a dry-run create is
// validated and admitted before the registry looks at storage, so it
// answers AlreadyExists for a valid object and an error for an invalid one.
// The diff compares the fields set on the live object (by Flux, or by anyone
// if Flux set none) with the manifest, leaving out what the server defaulted.
func (r *run) recreate(ctx context.Context, it item, live *unstructured.Unstructured) Change {
	obj := it.obj
	it.seen.recreates()
	err := r.d.Client.Create(ctx, obj.DeepCopy(), client.DryRunAll)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		c := changeFor(obj, ActionFailed)
		c.Reason = "with force, Flux would delete the live object and then fail to create the new one: " + dryRunReason(err)
		return c
	}
	c := withDiff(changeFor(obj, ActionConfigured), setFields(live, obj), obj, it.paths)
	c.Reason = joinReasons(c.Reason, recreateReason)
	return r.checkNewSchema(c, obj, nil)
}

// recreateReason marks a re-creation.
const recreateReason = "deleted and re-created (force): a field that cannot change does; " +
	"the diff shows the fields set on the live object against the manifest"

// setFields is live reduced to the fields kustomize-controller set (all
// managers' when it set none), with its identity; maps set whole are cut to
// the shape they have in manifest (see project).
func setFields(live, manifest *unstructured.Unstructured) *unstructured.Unstructured {
	set := managedSet(live.GetManagedFields(), isControllerApply)
	if set.Empty() {
		set = managedSet(live.GetManagedFields(), func(e metav1.ManagedFieldsEntry) bool { return e.Subresource == "" })
	}
	if set.Empty() {
		return live
	}
	m, _ := project(live.Object, set, manifest.Object).(map[string]any)
	out := &unstructured.Unstructured{Object: m}
	out.SetAPIVersion(live.GetAPIVersion())
	out.SetKind(live.GetKind())
	out.SetNamespace(live.GetNamespace())
	out.SetName(live.GetName())
	return out
}

// joinReasons joins non-empty reasons with "; ".
func joinReasons(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
