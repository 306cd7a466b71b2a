package diff

import (
	"context"
	"reflect"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// runReads is the cluster client of one Diff call: it reads each
// ConfigMap, Secret and Kustomization once per run. The Kustomizations of a
// run read the same postBuild.substituteFrom ConfigMaps and Secrets and
// their own live Kustomization several times (variables, stale secret
// values, masking, status), and the run treats the cluster as it was when
// it started. Other kinds, the live objects compared one by one, are read
// every time. It is safe for concurrent use.
type runReads struct {
	client.Client
	mu   sync.Mutex
	seen map[string]runRead
}

// runRead is one cached answer: the object, or a NotFound error.
type runRead struct {
	obj client.Object
	err error
}

func newRunReads(c client.Client) *runReads {
	return &runReads{Client: c, seen: map[string]runRead{}}
}

// Get answers from the run's earlier reads of ConfigMaps, Secrets and
// Kustomizations, and from the cluster otherwise.
func (r *runReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	var kind string
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	case *kustomizev1.Kustomization:
		kind = "Kustomization"
	}
	if kind == "" || len(opts) > 0 {
		return r.Client.Get(ctx, key, obj, opts...)
	}
	k := kind + "/" + key.String()
	r.mu.Lock()
	hit, ok := r.seen[k]
	r.mu.Unlock()
	if ok {
		if hit.err != nil {
			return hit.err
		}
		reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(hit.obj.DeepCopyObject()).Elem())
		return nil
	}
	err := r.Client.Get(ctx, key, obj)
	switch {
	case err == nil:
		hit = runRead{obj: obj.DeepCopyObject().(client.Object)}
	case apierrors.IsNotFound(err):
		hit = runRead{err: err}
	default:
		return err // not remembered: the next read may succeed
	}
	r.mu.Lock()
	r.seen[k] = hit
	r.mu.Unlock()
	return err
}
