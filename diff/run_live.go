package diff

import (
	"context"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultLiveListMin is Differ.LiveListMin's default.
const DefaultLiveListMin = 4

// liveReads holds the live objects of one build read in bulk: one LIST per
// kind and namespace where the build has at least Differ.LiveListMin
// objects of that kind there, instead of one GET per object. A LIST is one
// request and, for the API server, one read of its watch cache, where GETs
// are one request each and a read of etcd each; on a build of hundreds of
// objects the GETs were a third of the work of a diff (BENCHMARKS.md).
//
// kustomize-controller reads each object with a GET just before applying
// it (fluxcd/pkg/ssa ResourceManager.Diff/Apply); nothing is applied during
// a diff, so reading the same objects a moment earlier gives the same
// objects. Secrets are never listed: a LIST would read every Secret of the
// namespace, not only the build's. Where a LIST fails (forbidden, unknown
// kind) or a page does not hold every object of the kind in the namespace,
// the objects not found are read one by one as before. It is safe for
// concurrent use once filled.
type liveReads struct {
	mu   sync.Mutex
	objs map[liveKey]*unstructured.Unstructured
	// complete holds the groups whose LIST returned every object of the
	// kind in the namespace: an object missing there does not exist.
	complete map[liveGroup]bool
}

// liveGroup is one kind in one namespace ("" for cluster-scoped kinds).
type liveGroup struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// liveKey is one object.
type liveKey struct {
	liveGroup
	name string
}

func liveKeyOf(o *unstructured.Unstructured) liveKey {
	return liveKey{liveGroup{o.GroupVersionKind(), o.GetNamespace()}, o.GetName()}
}

func (d *Differ) liveListMin() int {
	if d.LiveListMin != 0 {
		return d.LiveListMin
	}
	return DefaultLiveListMin
}

// readLive lists the live objects of items in bulk (see liveReads). A nil
// result, or a group it did not list, means "read one by one".
func (r *run) readLive(ctx context.Context, items []item) *liveReads {
	lr := &liveReads{objs: map[liveKey]*unstructured.Unstructured{}, complete: map[liveGroup]bool{}}
	minimum := r.d.liveListMin()
	if minimum < 0 {
		return lr
	}
	counts := map[liveGroup]int{}
	for _, it := range items {
		if g, ok := r.listable(it); ok {
			counts[g]++
		}
	}
	var groups []liveGroup
	var idx []int
	for g, n := range counts {
		if n >= minimum {
			idx = append(idx, len(groups))
			groups = append(groups, g)
		}
	}
	_ = r.d.forEach(ctx, idx, func(i int) { lr.list(ctx, r.d.Client, groups[i], counts[groups[i]]) })
	return lr
}

// listable returns the group of it when its kind may be listed: not a
// Secret, not a SOPS object, and with a namespace exactly when its kind is
// namespaced (an object of a namespaced kind without one is left to the GET
// to answer as it does).
func (r *run) listable(it item) (liveGroup, bool) {
	o := it.obj
	if it.sops || isSecret(o) || o.GetName() == "" {
		return liveGroup{}, false
	}
	namespaced, err := r.d.Client.IsObjectNamespaced(o)
	if err != nil || namespaced != (o.GetNamespace() != "") {
		return liveGroup{}, false
	}
	return liveKeyOf(o).liveGroup, true
}

// list reads group g with one LIST of at most twice the build's n objects
// of it plus a margin, so that a namespace full of other objects of the
// kind costs a bounded read; objects beyond the page are read one by one.
func (lr *liveReads) list(ctx context.Context, c client.Client, g liveGroup, n int) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(g.gvk.GroupVersion().WithKind(g.gvk.Kind + "List"))
	opts := []client.ListOption{client.Limit(int64(2*n + 50))}
	if g.namespace != "" {
		opts = append(opts, client.InNamespace(g.namespace))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	for i := range list.Items {
		o := &list.Items[i]
		o.SetGroupVersionKind(g.gvk)
		if o.GetNamespace() == g.namespace {
			lr.objs[liveKey{g, o.GetName()}] = o
		}
	}
	lr.complete[g] = list.GetContinue() == ""
}

// lookup answers obj's live object from the bulk reads: the object (a
// copy); or a NotFound error when its group was read whole and it is not
// there; known is false when it must be read on its own.
func (lr *liveReads) lookup(c client.Client, obj *unstructured.Unstructured) (live *unstructured.Unstructured, known bool, err error) {
	if lr == nil {
		return nil, false, nil
	}
	k := liveKeyOf(obj)
	lr.mu.Lock()
	o, found := lr.objs[k]
	complete := lr.complete[k.liveGroup]
	lr.mu.Unlock()
	switch {
	case found:
		return o.DeepCopy(), true, nil
	case complete:
		return nil, true, apierrors.NewNotFound(groupResource(c, k.gvk), k.name)
	}
	return nil, false, nil
}

// groupResource names the resource of gvk for an error message, as the API
// server's NotFound would.
func groupResource(c client.Client, gvk schema.GroupVersionKind) schema.GroupResource {
	if m, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
		return m.Resource.GroupResource()
	}
	return schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind)}
}
