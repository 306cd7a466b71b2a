package diff

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// builtObjects holds the ConfigMaps and Secrets that the run's builds so far
// apply, as the API server would store them after the apply. A later
// Kustomization's postBuild.substituteFrom reads them instead of the
// cluster's copies: kustomize-controller reads the variables from the
// cluster when it builds (LoadVariables), so once the earlier build applies,
// it substitutes the new values. It is safe for concurrent use.
type builtObjects struct {
	mu   sync.Mutex
	objs map[string]*unstructured.Unstructured // "Kind/namespace/name"
	// encrypted names the SOPS-encrypted Secrets among the builds: the
	// controller decrypts them, so their new values are unknown here.
	encrypted map[string]string // "Secret/namespace/name" → the Kustomization that builds it
}

func newBuiltObjects() *builtObjects {
	return &builtObjects{objs: map[string]*unstructured.Unstructured{}, encrypted: map[string]string{}}
}

func builtKey(kind string, key client.ObjectKey) string {
	return kind + "/" + key.Namespace + "/" + key.Name
}

// add records the ConfigMaps and Secrets of one build (by) that the apply
// would leave in the cluster: created, configured or unchanged ones.
func (b *builtObjects) add(by string, items []item, changes []Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, it := range items {
		o := it.obj
		kind := o.GetKind()
		if o.GroupVersionKind().Group != "" || (kind != "ConfigMap" && kind != "Secret") || i >= len(changes) {
			continue
		}
		switch changes[i].Action {
		case ActionCreated, ActionConfigured, ActionUnchanged:
		default:
			continue
		}
		key := builtKey(kind, client.ObjectKeyFromObject(o))
		if it.sops {
			b.encrypted[key] = by
			delete(b.objs, key)
			continue
		}
		b.objs[key] = o.DeepCopy()
		delete(b.encrypted, key)
	}
}

func (b *builtObjects) get(kind string, key client.ObjectKey) (*unstructured.Unstructured, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := builtKey(kind, key)
	return b.objs[k], b.encrypted[k]
}

// variableReader reads the ConfigMaps and Secrets of substituteFrom from the
// run's builds first and from the cluster otherwise; notes says where a
// value could not be known.
type variableReader struct {
	client.Client
	built *builtObjects
	mu    sync.Mutex
	notes []string
}

// Get serves a ConfigMap or Secret that an earlier build applies from that
// build; anything else from the cluster.
func (r *variableReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	kind := ""
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	}
	if kind != "" && r.built != nil {
		u, encryptedBy := r.built.get(kind, key)
		if u != nil {
			return fromBuilt(u, obj)
		}
		if encryptedBy != "" {
			r.note(fmt.Sprintf("postBuild.substituteFrom reads Secret %s, which %s builds SOPS-encrypted: its new values cannot be decrypted here, so the cluster's are used", key, encryptedBy))
		}
	}
	return r.Client.Get(ctx, key, obj, opts...)
}

func (r *variableReader) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, s)
}

// fromBuilt converts a built ConfigMap or Secret into obj as the API server
// stores it: a Secret's stringData folded into data.
func fromBuilt(u *unstructured.Unstructured, obj client.Object) error {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, obj); err != nil {
		return fmt.Errorf("%s %s as built: %w", u.GetKind(), client.ObjectKeyFromObject(u), err)
	}
	if s, ok := obj.(*corev1.Secret); ok {
		if s.Data == nil && len(s.StringData) > 0 {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	return nil
}
